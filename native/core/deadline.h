// Monotonic deadlines for waits that must survive EINTR: after an
// interrupted call the wait resumes with only the time that is left.
#ifndef ASYNCORE_CORE_DEADLINE_H_
#define ASYNCORE_CORE_DEADLINE_H_

#include <time.h>

#include <cmath>

namespace asyncore {

inline double MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 +
         static_cast<double>(ts.tv_nsec) / 1e6;
}

// A wait of timeout_ms milliseconds; negative means forever. Zero is a
// poll: it never reads the clock, since every send(), recv() and
// zero-timeout pass makes one of these.
class Deadline {
 public:
  explicit Deadline(double timeout_ms)
      : forever_(timeout_ms < 0),
        poll_(timeout_ms == 0),
        end_ms_(timeout_ms > 0 ? MonotonicMs() + timeout_ms : 0) {}

  bool forever() const { return forever_; }

  // Milliseconds left, never negative; -1 when waiting forever.
  double RemainingMs() const {
    if (forever_) return -1;
    if (poll_) return 0;
    double left = end_ms_ - MonotonicMs();
    return left > 0 ? left : 0;
  }

  // The remaining time rounded up to whole milliseconds, as poll() and
  // epoll_wait() take it: rounding down would wake early and spin (CPython
  // rounds timeouts up with _PyTime_ROUND_CEILING for the same reason).
  int RemainingWholeMs() const {
    if (forever_) return -1;
    double left = std::ceil(RemainingMs());
    return left > 2147483647.0 ? 2147483647 : static_cast<int>(left);
  }

 private:
  bool forever_;
  bool poll_;
  double end_ms_;
};

}  // namespace asyncore

#endif  // ASYNCORE_CORE_DEADLINE_H_
