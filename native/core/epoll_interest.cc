#include "epoll_interest.h"

#if defined(__linux__)

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>

#include <algorithm>

namespace asyncore {

EpollInterest::Entry& EpollInterest::At(int32_t fd) {
  if (static_cast<size_t>(fd) >= entries_.size()) {
    entries_.resize(std::max(static_cast<size_t>(fd) + 1, entries_.size() * 2));
  }
  return entries_[fd];
}

uint32_t EpollInterest::events(int32_t fd) const {
  if (fd < 0 || static_cast<size_t>(fd) >= entries_.size()) return 0;
  const Entry& entry = entries_[fd];
  return entry.position != 0 ? entry.events : 0;
}

void EpollInterest::Queue(int32_t fd, uint32_t events, int32_t flags) {
  pending_.push_back({fd, events, flags});
}

int EpollInterest::Apply(const int32_t* fds, const int32_t* events,
                         const int32_t* flags, size_t count, bool replace) {
  pending_.clear();
  uint32_t stamp = ++stamp_;
  size_t registered_seen = 0;
  for (size_t i = 0; i < count; i++) {
    int32_t fd = fds[i];
    auto wanted = static_cast<uint32_t>(events[i]);
    int32_t flag = flags != nullptr ? flags[i] : 0;
    if (fd < 0 || fd > kMaxInterestFd) return -EBADF;
    Entry& entry = At(fd);
    if (entry.stamp != stamp && entry.position != 0) registered_seen++;
    entry.stamp = stamp;
    if (wanted == 0) {
      if (entry.position != 0) Queue(fd, 0, flag);
    } else if (entry.position == 0 || (flag & kInterestFresh) != 0 ||
               entry.events != wanted) {
      Queue(fd, wanted, flag);
    }
  }
  // When every registered fd is in the batch, nothing is stale.
  if (replace && registered_seen != list_.size()) {
    for (int32_t fd : list_) {
      if (entries_[fd].stamp != stamp) Queue(fd, 0, 0);
    }
  }
  if (pending_.size() > 1) {
    std::stable_sort(
        pending_.begin(), pending_.end(),
        [](const Change& a, const Change& b) { return a.fd < b.fd; });
  }
  for (const Change& change : pending_) {
    int result = ApplyOne(change);
    if (result < 0) {
      pending_.clear();
      return result;
    }
  }
  pending_.clear();
  return 0;
}

int EpollInterest::ApplyOne(const Change& change) {
  if (change.events == 0) return Remove(change.fd);
  Entry& entry = entries_[change.fd];
  if (entry.position == 0 || (change.flags & kInterestFresh) != 0) {
    return Add(change.fd, change.events);
  }
  if (entry.events != change.events) return Modify(change.fd, change.events);
  return 0;
}

int EpollInterest::Add(int32_t fd, uint32_t events) {
  int result = ctl_(EPOLL_CTL_ADD, fd, events);
  if (result == -EEXIST) result = ctl_(EPOLL_CTL_MOD, fd, events);
  return Record(fd, events, result);
}

int EpollInterest::Modify(int32_t fd, uint32_t events) {
  Entry& entry = entries_[fd];
  if (entry.state == kAlwaysReady || entry.state == kInvalid) {
    entry.events = events;
    return 0;
  }
  int result = ctl_(EPOLL_CTL_MOD, fd, events);
  if (result == -ENOENT) result = ctl_(EPOLL_CTL_ADD, fd, events);
  return Record(fd, events, result);
}

int EpollInterest::Record(int32_t fd, uint32_t events, int result) {
  State state = kKernel;
  if (result == -EPERM) {
    state = kAlwaysReady;
  } else if (result == -EBADF) {
    state = kInvalid;
  } else if (result < 0) {
    return result;
  }
  Entry& entry = entries_[fd];
  if (entry.position == 0) {
    list_.push_back(fd);
    entry.position = static_cast<uint32_t>(list_.size());
  }
  bool was_synthetic = entry.state == kAlwaysReady || entry.state == kInvalid;
  bool is_synthetic = state != kKernel;
  if (was_synthetic) synthetic_count_--;
  if (is_synthetic) synthetic_count_++;
  entry.state = state;
  entry.events = events;
  return 0;
}

int EpollInterest::Remove(int32_t fd) {
  Entry& entry = entries_[fd];
  if (entry.position == 0) return 0;
  int result = 0;
  if (entry.state == kKernel) {
    result = ctl_(EPOLL_CTL_DEL, fd, 0);
    // ENOENT/EBADF: the kernel dropped it when the fd was closed.
    if (result == -ENOENT || result == -EBADF) result = 0;
  } else {
    synthetic_count_--;
  }
  size_t index = entry.position - 1;
  int32_t last = list_.back();
  list_[index] = last;
  entries_[last].position = static_cast<uint32_t>(index + 1);
  list_.pop_back();
  entry.position = 0;
  entry.state = kNone;
  entry.events = 0;
  return result;
}

int EpollInterest::Forget(int32_t fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= entries_.size()) return 0;
  return Remove(fd);
}

void EpollInterest::Clear() {
  for (int32_t fd : list_) entries_[fd] = Entry();
  list_.clear();
  synthetic_count_ = 0;
}

size_t EpollInterest::AddSynthetic(int32_t* out, size_t count,
                                   size_t capacity) const {
  if (synthetic_count_ == 0) return count;
  for (size_t i = 0; i < list_.size() && count < capacity; i++) {
    int32_t fd = list_[i];
    const Entry& entry = entries_[fd];
    if (entry.state == kKernel) continue;
    out[2 * count] = fd;
    out[2 * count + 1] =
        entry.state == kInvalid
            ? POLLNVAL
            : static_cast<int32_t>(entry.events & (POLLIN | POLLOUT));
    count++;
  }
  return count;
}

}  // namespace asyncore

#endif  // defined(__linux__)
