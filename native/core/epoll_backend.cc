// epoll(7): registrations live in the kernel between waits (EpollInterest
// tells it only what changed), so a wait over many idle fds costs nothing
// per idle fd. The wake-up fd is registered with a tag no user fd can have.
// Python's select.epoll objects call epoll_ctl() directly (RawEpoll).
#include "backend.h"

#if defined(__linux__)

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>

#include <algorithm>
#include <vector>

#include "deadline.h"
#include "epoll_interest.h"
#include "fd_ops.h"

namespace asyncore {

namespace {

constexpr uint64_t kWakeTag = uint64_t{1} << 32;

class EpollBackend : public Backend, public RawEpoll {
 public:
  EpollBackend()
      : interest_([this](int op, int fd, uint32_t events) {
          return Control(op, fd, events);
        }) {}
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
    interest_.Clear();
  }

  int Apply(const int32_t* fds, const int32_t* events, const int32_t* flags,
            size_t count, bool replace) override {
    return interest_.Apply(fds, events, flags, count, replace);
  }

  int Forget(int32_t fd) override { return interest_.Forget(fd); }

  int Control(int op, int fd, uint32_t events) override {
    if (fd >= 0 && fd == wake_fd_) {
      // A caller's fd closed before the wake-up fd was made may have had its
      // number: that caller's file is gone, and ours is not theirs to change.
      return -EBADF;
    }
    struct epoll_event event = {};
    event.events = events;
    event.data.u64 = static_cast<uint32_t>(fd);
    return epoll_ctl(epoll_fd_, op, fd, &event) == 0 ? 0 : -errno;
  }

  size_t FindClosed(int32_t* out, size_t count, size_t capacity) override {
    interest_.ForEachRegistered([&](int32_t fd) {
      // The number may have gone to the wake-up fd made since.
      if (fd == wake_fd_) {
        count = PutPair(out, count, capacity, fd, POLLNVAL);
      } else {
        count = AppendClosed(&fd, 1, out, count, capacity);
      }
    });
    return count;
  }

  int Wait(double timeout_ms, int32_t* out, size_t capacity,
           bool* woken) override {
    // Fds the kernel cannot watch are always ready: never sleep on them.
    if (interest_.synthetic() > 0) timeout_ms = 0;
    // No extra slot for the wake-up fd: an event the kernel hands over but
    // we cannot report is lost for EPOLLET and EPOLLONESHOT fds. The
    // wake-up fd is level-triggered, so when crowded out it comes back on
    // the next wait. epoll_wait() wants at least one slot.
    size_t slots = std::max<size_t>(capacity, 1);
    if (events_.size() < slots) events_.resize(slots);
    Deadline deadline(timeout_ms);
    int ready;
    do {
      ready = epoll_wait(epoll_fd_, events_.data(), static_cast<int>(slots),
                         deadline.RemainingWholeMs());
    } while (ready < 0 && errno == EINTR);
    *woken = false;
    if (ready < 0) return -errno;
    size_t count = 0;
    for (int i = 0; i < ready; i++) {
      if (events_[i].data.u64 == kWakeTag) {
        *woken = true;
      } else {
        count = PutPair(out, count, capacity,
                        static_cast<int32_t>(events_[i].data.u64),
                        static_cast<int32_t>(events_[i].events));
      }
    }
    return static_cast<int>(interest_.AddSynthetic(out, count, capacity));
  }

  int fileno() const override { return epoll_fd_; }

 private:
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::vector<struct epoll_event> events_;
  EpollInterest interest_;
};

}  // namespace

std::unique_ptr<Backend> MakeEpollBackend(RawEpoll** raw) {
  auto backend = std::make_unique<EpollBackend>();
  if (raw != nullptr) *raw = backend.get();
  return backend;
}

}  // namespace asyncore

#else

namespace asyncore {
std::unique_ptr<Backend> MakeEpollBackend(RawEpoll** raw) {
  if (raw != nullptr) *raw = nullptr;
  return nullptr;
}
}  // namespace asyncore

#endif
