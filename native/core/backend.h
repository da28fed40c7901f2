// The kernel interfaces a reactor can wait with, one file each:
// select_backend.cc, poll_backend.cc, epoll_backend.cc.
#ifndef ASYNCORE_CORE_BACKEND_H_
#define ASYNCORE_CORE_BACKEND_H_

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <vector>

namespace asyncore {

enum class BackendKind { kSelect = 0, kPoll = 1, kEpoll = 2 };

// One ready fd. events holds POLL* bits for select and poll, EPOLL* bits
// for epoll; select reports its read, write and exception sets as POLLIN,
// POLLOUT and POLLPRI.
struct ReadyEvent {
  int32_t fd;
  int32_t events;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Makes the backend's own fds; wake_fd is watched by every wait.
  virtual int Open(int wake_fd) = 0;
  virtual void Close() {}

  // select and poll: the fds to wait on and their POLL* events, copied.
  // Returns 0 or -errno; -EINVAL for epoll.
  virtual int SetInterest(const int32_t* fds, const int32_t* events,
                          size_t count) = 0;

  // epoll: epoll_ctl(op, fd, events). -EINVAL for the others.
  virtual int Control(int op, int fd, uint32_t events) = 0;

  // Waits at most timeout_ms (< 0: forever) and fills ready with at most
  // max_events events, in the order the interest set gave them. *woken
  // tells whether wake_fd fired (it is not drained here). EINTR is retried
  // with the time left. Returns 0 or -errno.
  virtual int Wait(double timeout_ms, size_t max_events,
                   std::vector<ReadyEvent>* ready, bool* woken) = 0;

  // epoll: the epoll fd; -1 for the others.
  virtual int fileno() const { return -1; }
};

std::unique_ptr<Backend> MakeSelectBackend();
std::unique_ptr<Backend> MakePollBackend();
std::unique_ptr<Backend> MakeEpollBackend();  // nullptr where there is none.

std::unique_ptr<Backend> MakeBackend(BackendKind kind);

}  // namespace asyncore

#endif  // ASYNCORE_CORE_BACKEND_H_
