// The kernel interfaces a reactor can wait with, one file each:
// select_backend.cc, poll_backend.cc, epoll_backend.cc. They keep one
// contract: the interest changes of a pass arrive as one batch (Apply), a
// channel that leaves its fd is forgotten at once (Forget), and a wait
// (Wait; a timeout of 0 polls now) writes [fd, events] pairs straight into
// the caller's array.
#ifndef ASYNCORE_CORE_BACKEND_H_
#define ASYNCORE_CORE_BACKEND_H_

#include <stddef.h>
#include <stdint.h>

#include <memory>

namespace asyncore {

enum class BackendKind { kSelect = 0, kPoll = 1, kEpoll = 2 };

// Flags of an interest change.
// The fd may be another file than the one registered before (a channel
// left the number and another took it): epoll registers it afresh.
constexpr int32_t kInterestFresh = 1;

// The largest fd an interest change may name (the tables are indexed by fd).
constexpr int32_t kMaxInterestFd = (1 << 22) - 1;

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

  // One batch of interest changes: fds[i] wants events[i] (POLL* bits; 0:
  // nothing), with flags[i] (kInterestFresh; flags may be null). With
  // replace, the batch is the whole interest set, in the order waits report
  // ready fds (select and poll; epoll reports in the kernel's order);
  // otherwise it changes the fds it names, and a new one goes last.
  // 0 or -errno.
  virtual int Apply(const int32_t* fds, const int32_t* events,
                    const int32_t* flags, size_t count, bool replace) = 0;

  // Stops watching fd at once (its channel left it, and its file may be
  // closed next). 0 or -errno.
  virtual int Forget(int32_t fd) = 0;

  // Waits at most timeout_ms (< 0: forever; 0: polls) and writes at most
  // capacity [fd, events] pairs into out, in the order of the interest set
  // (select, poll) or of the kernel (epoll). *woken tells whether wake_fd
  // fired (it is not drained here). EINTR is retried with the time left.
  // Returns the number of pairs, or -errno.
  virtual int Wait(double timeout_ms, int32_t* out, size_t capacity,
                   bool* woken) = 0;

  // Writes [fd, POLLNVAL] into out, from pair `count` on and up to
  // `capacity`, for each fd watched that is no longer open. poll and select
  // find those on every wait; epoll never reports them (the kernel drops
  // the registration when the fd is closed), so a caller that waited out a
  // timeout asks here. Returns the new count.
  virtual size_t FindClosed(int32_t* out, size_t count, size_t capacity) = 0;

  // epoll: the epoll fd (readable while any fd in it is ready); -1 for the
  // others.
  virtual int fileno() const { return -1; }
};

// Python's select.epoll objects: epoll_ctl() as the program calls it,
// errors and all. Only an epoll backend has it, and a reactor uses either
// this or Apply(), never both.
class RawEpoll {
 public:
  virtual ~RawEpoll() = default;
  // epoll_ctl(op, fd, events): 0 or -errno.
  virtual int Control(int op, int fd, uint32_t events) = 0;
};

std::unique_ptr<Backend> MakeSelectBackend();
std::unique_ptr<Backend> MakePollBackend();
// nullptr where there is none. *raw, when given, is its RawEpoll.
std::unique_ptr<Backend> MakeEpollBackend(RawEpoll** raw = nullptr);

std::unique_ptr<Backend> MakeBackend(BackendKind kind,
                                     RawEpoll** raw = nullptr);

// Writes [fd, POLLNVAL] for each of fds[0..n) that is not open (the
// FindClosed() of select and poll), from pair `count` on; the new count.
size_t AppendClosed(const int32_t* fds, size_t n, int32_t* out, size_t count,
                    size_t capacity);

// One pair, if there is room; the new count.
inline size_t PutPair(int32_t* out, size_t count, size_t capacity, int32_t fd,
                      int32_t events) {
  if (count >= capacity) return count;
  out[2 * count] = fd;
  out[2 * count + 1] = events;
  return count + 1;
}

}  // namespace asyncore

#endif  // ASYNCORE_CORE_BACKEND_H_
