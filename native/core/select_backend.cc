// select(2): the read, write and exception sets are built anew for every
// call, as select() overwrites them. An fd at or above FD_SETSIZE cannot be
// held in an fd_set; it is refused up front, as CPython's seq2set() does
// ("filedescriptor out of range in select()").
//
// select() fails as a whole with EBADF when one fd is not open, which may
// happen to a wait on the worker thread when JavaScript closes a channel's
// fd before the wake-up reaches it. Like poll(), the backend then reports
// POLLNVAL for each fd that is not open, and the caller decides: Python's
// select.select() raises EBADF, asyncore ignores a channel already removed.
#include <errno.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/time.h>

#include <cmath>

#include "backend.h"
#include "deadline.h"
#include "ordered_interest.h"

namespace asyncore {

namespace {

class SelectBackend : public Backend {
 public:
  int Open() override { return 0; }

  int WatchWakeup(int wake_fd) override {
    if (wake_fd >= FD_SETSIZE) return -EMFILE;
    wake_fd_ = wake_fd;
    return 0;
  }

  size_t FindClosed(int32_t* out, size_t count, size_t capacity) override {
    return AppendClosed(interest_.fds(), interest_.size(), out, count,
                        capacity);
  }

  int Apply(const int32_t* fds, const int32_t* events, const int32_t*,
            size_t count, bool replace) override {
    return interest_.Apply(fds, events, count, replace, FD_SETSIZE - 1);
  }

  int Forget(int32_t fd) override {
    interest_.Forget(fd);
    return 0;
  }

  int Wait(double timeout_ms, int32_t* out, size_t capacity,
           bool* woken) override {
    Deadline deadline(timeout_ms);
    fd_set read_set, write_set, except_set;
    int result;
    do {
      int max_fd = FillSets(&read_set, &write_set, &except_set);
      struct timeval tv;
      struct timeval* tvp = nullptr;
      if (!deadline.forever()) {
        // Round up to the microsecond so a short wait is never a busy loop.
        double left_us = std::ceil(deadline.RemainingMs() * 1000.0);
        tv.tv_sec = static_cast<time_t>(left_us / 1e6);
        tv.tv_usec = static_cast<suseconds_t>(
            left_us - static_cast<double>(tv.tv_sec) * 1e6);
        tvp = &tv;
      }
      result = select(max_fd + 1, &read_set, &write_set, &except_set, tvp);
    } while (result < 0 && errno == EINTR);
    *woken = false;
    if (result < 0 && errno == EBADF) {
      size_t closed = FindClosed(out, 0, capacity);
      // No fd of ours is closed: the wake-up fd itself was, which only
      // happens when the reactor is being torn down.
      return closed == 0 ? -EBADF : static_cast<int>(closed);
    }
    if (result < 0) return -errno;
    if (result == 0) return 0;
    *woken = wake_fd_ >= 0 && FD_ISSET(wake_fd_, &read_set);
    size_t count = 0;
    for (size_t i = 0; i < interest_.size() && count < capacity; i++) {
      int fd = interest_.fd(i);
      int revents = 0;
      if (FD_ISSET(fd, &read_set)) revents |= POLLIN;
      if (FD_ISSET(fd, &write_set)) revents |= POLLOUT;
      if (FD_ISSET(fd, &except_set)) revents |= POLLPRI;
      if (revents != 0) count = PutPair(out, count, capacity, fd, revents);
    }
    return static_cast<int>(count);
  }

 private:
  int FillSets(fd_set* read_set, fd_set* write_set, fd_set* except_set) {
    FD_ZERO(read_set);
    FD_ZERO(write_set);
    FD_ZERO(except_set);
    int max_fd = wake_fd_;
    if (wake_fd_ >= 0) FD_SET(wake_fd_, read_set);
    for (size_t i = 0; i < interest_.size(); i++) {
      int fd = interest_.fd(i);
      int events = interest_.events(i);
      if (events & POLLIN) FD_SET(fd, read_set);
      if (events & POLLOUT) FD_SET(fd, write_set);
      if (events & POLLPRI) FD_SET(fd, except_set);
      if (fd > max_fd) max_fd = fd;
    }
    return max_fd;
  }

  int wake_fd_ = -1;
  OrderedInterest interest_;
};

}  // namespace

std::unique_ptr<Backend> MakeSelectBackend() {
  return std::make_unique<SelectBackend>();
}

}  // namespace asyncore
