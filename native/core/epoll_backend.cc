// epoll(7): registrations live in the kernel between waits, so a wait over
// many idle fds costs nothing per idle fd. The wake-up fd is registered
// with a tag no user fd can have.
#include "backend.h"

#if defined(__linux__)

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>

#include <algorithm>
#include <set>

#include "deadline.h"
#include "fd_ops.h"

namespace asyncore {

namespace {

constexpr uint64_t kWakeTag = uint64_t{1} << 32;

class EpollBackend : public Backend {
 public:
  ~EpollBackend() override { Close(); }

  int Open() override {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    return epoll_fd_ < 0 ? -errno : 0;
  }

  int WatchWakeup(int wake_fd) override {
    wake_fd_ = wake_fd;
    struct epoll_event event = {};
    event.events = EPOLLIN;
    event.data.u64 = kWakeTag;
    return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd, &event) == 0 ? 0
                                                                     : -errno;
  }

  void Close() override {
    if (epoll_fd_ >= 0) asyncore::Close(epoll_fd_);
    epoll_fd_ = -1;
    registered_.clear();
  }

  int SetInterest(const int32_t*, const int32_t*, size_t) override {
    return -EINVAL;
  }

  int Control(int op, int fd, uint32_t events) override {
    struct epoll_event event = {};
    event.events = events;
    event.data.u64 = static_cast<uint32_t>(fd);
    int result;
    if (fd >= 0 && fd == wake_fd_) {
      // A caller's fd closed before the wake-up fd was made may have had its
      // number: that caller's file is gone, and ours is not theirs to change.
      result = -EBADF;
    } else {
      result = epoll_ctl(epoll_fd_, op, fd, &event) == 0 ? 0 : -errno;
    }
    // Whatever a DEL returns, fd is not registered afterwards.
    if (op == EPOLL_CTL_ADD && result == 0) registered_.insert(fd);
    if (op == EPOLL_CTL_DEL) registered_.erase(fd);
    return result;
  }

  size_t FindClosed(size_t max_events,
                    std::vector<ReadyEvent>* ready) override {
    size_t appended = 0;
    for (int32_t fd : registered_) {
      // The number may have gone to the wake-up fd made since.
      if (fd == wake_fd_ && ready->size() < max_events) {
        ready->push_back({fd, POLLNVAL});
        appended++;
      } else {
        appended += AppendClosed(&fd, 1, max_events, ready);
      }
    }
    return appended;
  }

  int Wait(double timeout_ms, size_t max_events, std::vector<ReadyEvent>* ready,
           bool* woken) override {
    // No extra slot for the wake-up fd: an event the kernel hands over but
    // we cannot report is lost for EPOLLET and EPOLLONESHOT fds. The
    // wake-up fd is level-triggered, so when crowded out it comes back on
    // the next wait. epoll_wait() wants at least one slot.
    size_t slots = std::max<size_t>(max_events, 1);
    if (events_.size() < slots) events_.resize(slots);
    Deadline deadline(timeout_ms);
    int count;
    do {
      count = epoll_wait(epoll_fd_, events_.data(), static_cast<int>(slots),
                         deadline.RemainingWholeMs());
    } while (count < 0 && errno == EINTR);
    ready->clear();
    *woken = false;
    if (count < 0) return -errno;
    for (int i = 0; i < count; i++) {
      if (events_[i].data.u64 == kWakeTag) {
        *woken = true;
      } else if (ready->size() < max_events) {
        ready->push_back({static_cast<int32_t>(events_[i].data.u64),
                          static_cast<int32_t>(events_[i].events)});
      }
    }
    return 0;
  }

  int fileno() const override { return epoll_fd_; }

 private:
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::vector<struct epoll_event> events_;
  // The fds added and not deleted since, in order, for FindClosed().
  std::set<int32_t> registered_;
};

}  // namespace

std::unique_ptr<Backend> MakeEpollBackend() {
  return std::make_unique<EpollBackend>();
}

}  // namespace asyncore

#else

namespace asyncore {
std::unique_ptr<Backend> MakeEpollBackend() { return nullptr; }
}  // namespace asyncore

#endif
