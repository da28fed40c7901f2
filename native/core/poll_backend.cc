// poll(2): the pollfd array is rebuilt when the interest set changes and
// reused by every wait; the wake-up fd rides in its last slot.
#include <errno.h>
#include <poll.h>

#include "backend.h"
#include "deadline.h"
#include "ordered_interest.h"

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

  int Apply(const int32_t* fds, const int32_t* events, const int32_t*,
            size_t count, bool replace) override {
    int result = interest_.Apply(fds, events, count, replace, INT32_MAX);
    if (result == 0) Rebuild();
    return result;
  }

  int Forget(int32_t fd) override {
    interest_.Forget(fd);
    Rebuild();
    return 0;
  }

  size_t FindClosed(int32_t* out, size_t count, size_t capacity) override {
    return AppendClosed(interest_.fds(), interest_.size(), out, count,
                        capacity);
  }

  int Wait(double timeout_ms, int32_t* out, size_t capacity,
           bool* woken) override {
    Deadline deadline(timeout_ms);
    int result;
    do {
      result =
          poll(pollfds_.data(), pollfds_.size(), deadline.RemainingWholeMs());
    } while (result < 0 && errno == EINTR);
    *woken = false;
    if (result < 0) return -errno;
    if (result == 0) return 0;
    size_t user_count = pollfds_.size() - 1;
    *woken = pollfds_[user_count].revents != 0;
    // poll() returns how many entries have nonzero revents: past the last
    // of them there is nothing left to find.
    size_t left = static_cast<size_t>(result) - (*woken ? 1 : 0);
    size_t count = 0;
    for (size_t i = 0; i < user_count && left > 0 && count < capacity; i++) {
      const struct pollfd& entry = pollfds_[i];
      if (entry.revents == 0) continue;
      left--;
      // Only what was asked for, plus the conditions poll() always reports
      // (libuv's posix-poll.c masks revents the same way). POLLNVAL is
      // reported for that fd, not turned into a failure of the whole wait.
      int revents =
          entry.revents & (entry.events | POLLERR | POLLHUP | POLLNVAL);
      if (revents != 0)
        count = PutPair(out, count, capacity, entry.fd, revents);
    }
    return static_cast<int>(count);
  }

 private:
  void Rebuild() {
    size_t count = interest_.size();
    pollfds_.resize(count + 1);
    for (size_t i = 0; i < count; i++) {
      pollfds_[i] = {interest_.fd(i), static_cast<short>(interest_.events(i)),
                     0};
    }
    pollfds_[count] = {wake_fd_, POLLIN, 0};
  }

  int wake_fd_ = -1;
  OrderedInterest interest_;
  std::vector<struct pollfd> pollfds_;
};

}  // namespace

std::unique_ptr<Backend> MakePollBackend() {
  return std::make_unique<PollBackend>();
}

}  // namespace asyncore
