#include "backend.h"

namespace asyncore {

std::unique_ptr<Backend> MakeBackend(BackendKind kind) {
  switch (kind) {
    case BackendKind::kSelect:
      return MakeSelectBackend();
    case BackendKind::kPoll:
      return MakePollBackend();
    case BackendKind::kEpoll:
      return MakeEpollBackend();
  }
  return nullptr;
}

}  // namespace asyncore
