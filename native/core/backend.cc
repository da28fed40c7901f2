#include "backend.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>

namespace asyncore {

size_t AppendClosed(const int32_t* fds, size_t n, int32_t* out, size_t count,
                    size_t capacity) {
  for (size_t i = 0; i < n && count < capacity; i++) {
    if (fcntl(fds[i], F_GETFD) < 0 && errno == EBADF) {
      count = PutPair(out, count, capacity, fds[i], POLLNVAL);
    }
  }
  return count;
}

std::unique_ptr<Backend> MakeBackend(BackendKind kind, RawEpoll** raw) {
  switch (kind) {
    case BackendKind::kSelect:
      return MakeSelectBackend();
    case BackendKind::kPoll:
      return MakePollBackend();
    case BackendKind::kEpoll:
      return MakeEpollBackend(raw);
  }
  return nullptr;
}

}  // namespace asyncore
