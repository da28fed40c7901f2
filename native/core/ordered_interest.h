// The interest set of select and poll: fds and their POLL* events in the
// order the caller gave them, which is the order a wait reports them in
// (CPython's poll() and poll2() report in the order of the socket map).
#ifndef ASYNCORE_CORE_ORDERED_INTEREST_H_
#define ASYNCORE_CORE_ORDERED_INTEREST_H_

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <algorithm>
#include <vector>

#include "backend.h"

namespace asyncore {

class OrderedInterest {
 public:
  // Backend::Apply(): the whole set (replace), or changes to it. An fd
  // outside [0, limit] is -EINVAL and changes nothing.
  int Apply(const int32_t* fds, const int32_t* events, size_t count,
            bool replace, int32_t limit) {
    for (size_t i = 0; i < count; i++) {
      if (fds[i] < 0 || fds[i] > limit) return -EINVAL;
    }
    if (replace) {
      fds_.clear();
      events_.clear();
    }
    for (size_t i = 0; i < count; i++) {
      if (replace) {
        if (events[i] != 0) {
          fds_.push_back(fds[i]);
          events_.push_back(events[i]);
        }
        continue;
      }
      auto it = std::find(fds_.begin(), fds_.end(), fds[i]);
      size_t index = static_cast<size_t>(it - fds_.begin());
      if (events[i] == 0) {
        Erase(index);
      } else if (it != fds_.end()) {
        events_[index] = events[i];
      } else {
        fds_.push_back(fds[i]);
        events_.push_back(events[i]);
      }
    }
    return 0;
  }

  void Forget(int32_t fd) {
    auto it = std::find(fds_.begin(), fds_.end(), fd);
    Erase(static_cast<size_t>(it - fds_.begin()));
  }

  size_t size() const { return fds_.size(); }
  int32_t fd(size_t i) const { return fds_[i]; }
  int32_t events(size_t i) const { return events_[i]; }
  const int32_t* fds() const { return fds_.data(); }

 private:
  void Erase(size_t index) {
    if (index >= fds_.size()) return;
    fds_.erase(fds_.begin() + static_cast<std::ptrdiff_t>(index));
    events_.erase(events_.begin() + static_cast<std::ptrdiff_t>(index));
  }

  std::vector<int32_t> fds_;
  std::vector<int32_t> events_;
};

}  // namespace asyncore

#endif  // ASYNCORE_CORE_ORDERED_INTEREST_H_
