// poll(2): the pollfd array is built once per interest set and reused by
// every wait; the wake-up fd rides in its last slot.
#include <errno.h>
#include <poll.h>

#include "backend.h"
#include "deadline.h"

namespace asyncore {

namespace {

class PollBackend : public Backend {
 public:
  // poll(2) skips the entry of a negative fd: until the reactor has a
  // wake-up fd, the last slot is such an entry.
  int Open() override {
    pollfds_.assign(1, {wake_fd_, POLLIN, 0});
    return 0;
  }

  int WatchWakeup(int wake_fd) override {
    wake_fd_ = wake_fd;
    pollfds_.back().fd = wake_fd;
    return 0;
  }

  size_t FindClosed(size_t max_events,
                    std::vector<ReadyEvent>* ready) override {
    size_t appended = 0;
    for (size_t i = 0; i + 1 < pollfds_.size() && ready->size() < max_events;
         i++) {
      appended += AppendClosed(&pollfds_[i].fd, 1, max_events, ready);
    }
    return appended;
  }

  int SetInterest(const int32_t* fds, const int32_t* events,
                  size_t count) override {
    pollfds_.resize(count + 1);
    for (size_t i = 0; i < count; i++) {
      pollfds_[i] = {fds[i], static_cast<short>(events[i]), 0};
    }
    pollfds_[count] = {wake_fd_, POLLIN, 0};
    return 0;
  }

  int Control(int, int, uint32_t) override { return -EINVAL; }

  int Wait(double timeout_ms, size_t max_events, std::vector<ReadyEvent>* ready,
           bool* woken) override {
    Deadline deadline(timeout_ms);
    int result;
    do {
      result =
          poll(pollfds_.data(), pollfds_.size(), deadline.RemainingWholeMs());
    } while (result < 0 && errno == EINTR);
    ready->clear();
    *woken = false;
    if (result < 0) return -errno;
    if (result == 0) return 0;
    size_t user_count = pollfds_.size() - 1;
    *woken = pollfds_[user_count].revents != 0;
    // poll() returns how many entries have nonzero revents: past the last
    // of them there is nothing left to find.
    size_t left = static_cast<size_t>(result) - (*woken ? 1 : 0);
    for (size_t i = 0; i < user_count && left > 0 && ready->size() < max_events;
         i++) {
      const struct pollfd& entry = pollfds_[i];
      if (entry.revents == 0) continue;
      left--;
      // Only what was asked for, plus the conditions poll() always reports
      // (libuv's posix-poll.c masks revents the same way). POLLNVAL is
      // reported for that fd, not turned into a failure of the whole wait.
      int revents =
          entry.revents & (entry.events | POLLERR | POLLHUP | POLLNVAL);
      if (revents != 0) ready->push_back({entry.fd, revents});
    }
    return 0;
  }

 private:
  int wake_fd_ = -1;
  std::vector<struct pollfd> pollfds_;
};

}  // namespace

std::unique_ptr<Backend> MakePollBackend() {
  return std::make_unique<PollBackend>();
}

}  // namespace asyncore
