#include "backend.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

namespace asyncore {

size_t AppendClosed(const int32_t* fds, size_t count, size_t max_events,
                    std::vector<ReadyEvent>* ready) {
  size_t appended = 0;
  for (size_t i = 0; i < count && ready->size() < max_events; i++) {
    if (fcntl(fds[i], F_GETFD) < 0 && errno == EBADF) {
      ready->push_back({fds[i], POLLNVAL});
      appended++;
    }
  }
  return appended;
}

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
