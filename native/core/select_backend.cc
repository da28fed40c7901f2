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

  size_t FindClosed(size_t max_events,
                    std::vector<ReadyEvent>* ready) override {
    return AppendClosed(interest_.data(), interest_.size(), max_events, ready);
  }

  int SetInterest(const int32_t* fds, const int32_t* events,
                  size_t count) override {
    for (size_t i = 0; i < count; i++) {
      if (fds[i] < 0 || fds[i] >= FD_SETSIZE) return -EINVAL;
    }
    interest_.assign(fds, fds + count);
    events_.assign(events, events + count);
    return 0;
  }

  int Control(int, int, uint32_t) override { return -EINVAL; }

  int Wait(double timeout_ms, size_t max_events, std::vector<ReadyEvent>* ready,
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
    ready->clear();
    *woken = false;
    if (result < 0 && errno == EBADF) return ReportClosedFds(max_events, ready);
    if (result < 0) return -errno;
    if (result == 0) return 0;
    *woken = wake_fd_ >= 0 && FD_ISSET(wake_fd_, &read_set);
    for (size_t i = 0; i < interest_.size() && ready->size() < max_events;
         i++) {
      int fd = interest_[i];
      int revents = 0;
      if (FD_ISSET(fd, &read_set)) revents |= POLLIN;
      if (FD_ISSET(fd, &write_set)) revents |= POLLOUT;
      if (FD_ISSET(fd, &except_set)) revents |= POLLPRI;
      if (revents != 0) ready->push_back({fd, revents});
    }
    return 0;
  }

 private:
  int ReportClosedFds(size_t max_events, std::vector<ReadyEvent>* ready) {
    FindClosed(max_events, ready);
    // No fd of ours is closed: the wake-up fd itself was, which only
    // happens when the reactor is being torn down.
    return ready->empty() ? -EBADF : 0;
  }

  int FillSets(fd_set* read_set, fd_set* write_set, fd_set* except_set) {
    FD_ZERO(read_set);
    FD_ZERO(write_set);
    FD_ZERO(except_set);
    int max_fd = wake_fd_;
    if (wake_fd_ >= 0) FD_SET(wake_fd_, read_set);
    for (size_t i = 0; i < interest_.size(); i++) {
      int fd = interest_[i];
      if (events_[i] & POLLIN) FD_SET(fd, read_set);
      if (events_[i] & POLLOUT) FD_SET(fd, write_set);
      if (events_[i] & POLLPRI) FD_SET(fd, except_set);
      if (fd > max_fd) max_fd = fd;
    }
    return max_fd;
  }

  int wake_fd_ = -1;
  std::vector<int32_t> interest_;
  std::vector<int32_t> events_;
};

}  // namespace

std::unique_ptr<Backend> MakeSelectBackend() {
  return std::make_unique<SelectBackend>();
}

}  // namespace asyncore
