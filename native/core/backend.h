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

  // Makes the backend's own fds (epoll's); 0 or -errno.
  virtual int Open() = 0;
  virtual void Close() {}

  // From now on every wait also watches wake_fd. The reactor makes its
  // wake-up fd only for its first wait, after the caller's fds were polled
  // once: a number the caller just closed is then never taken by an fd of
  // ours while the caller still means its own.
  virtual int WatchWakeup(int wake_fd) = 0;

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

  // Appends [fd, POLLNVAL] for each fd watched that is no longer open. poll
  // and select find those on every wait; epoll never reports them (the
  // kernel drops the registration when the fd is closed), so a caller that
  // waited out a timeout asks here. Returns how many were appended.
  virtual size_t FindClosed(size_t max_events,
                            std::vector<ReadyEvent>* ready) = 0;

  // epoll: the epoll fd; -1 for the others.
  virtual int fileno() const { return -1; }
};

std::unique_ptr<Backend> MakeSelectBackend();
std::unique_ptr<Backend> MakePollBackend();
std::unique_ptr<Backend> MakeEpollBackend();  // nullptr where there is none.

std::unique_ptr<Backend> MakeBackend(BackendKind kind);

// Appends [fd, POLLNVAL] for each of fds[0..count) that is not open (the
// FindClosed() of select and poll); returns how many were appended.
size_t AppendClosed(const int32_t* fds, size_t count, size_t max_events,
                    std::vector<ReadyEvent>* ready);

}  // namespace asyncore

#endif  // ASYNCORE_CORE_BACKEND_H_
