// The epoll backend's registrations, kept in the kernel between passes: a
// batch of interest changes tells the kernel only what changed
// (EPOLL_CTL_ADD, MOD, DEL), so a pass over many idle fds costs the kernel
// nothing per idle fd.
//
// File descriptors are closed and reused. The kernel drops a registration
// by itself when the last fd of a file is closed (epoll(7), Q6), so a
// registration remembered here may be gone, and an fd number may now be
// another file. Hence:
// - a change flagged kFresh (the caller knows the fd may be another file
//   now) is registered afresh: ADD, and MOD when the kernel still has it
//   (EEXIST);
// - a MOD the kernel no longer knows (ENOENT) becomes an ADD; a DEL of what
//   it no longer knows (ENOENT, EBADF) is what was wanted anyway;
// - an fd the kernel cannot watch gets made-up readiness, as poll(2) would
//   report it: a regular file (EPERM) is always ready for what was asked;
//   an fd that is not open (EBADF) is POLLNVAL.
// Changes reach the kernel in the order of their fds, so the order in which
// fds become ready in the kernel's list depends only on what changed.
#ifndef ASYNCORE_CORE_EPOLL_INTEREST_H_
#define ASYNCORE_CORE_EPOLL_INTEREST_H_

#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <vector>

#include "backend.h"

namespace asyncore {

class EpollInterest {
 public:
  // epoll_ctl(op, fd, events): 0 or -errno.
  using Ctl = std::function<int(int op, int fd, uint32_t events)>;

  explicit EpollInterest(Ctl ctl) : ctl_(std::move(ctl)) {}

  // Applies count changes: fds[i] wants events[i] (0 removes it), with
  // flags[i] (kInterestFresh; flags may be null). With replace, the batch
  // is the whole interest set: an fd registered and not in it is removed.
  // 0, or the -errno of the first change the kernel refused for another
  // reason than those above (the changes after it are not made).
  int Apply(const int32_t* fds, const int32_t* events, const int32_t* flags,
            size_t count, bool replace);

  // Removes fd's registration now, if there is one (a channel left fd, and
  // its socket is about to be closed). 0 or -errno.
  int Forget(int32_t fd);

  // Forgets everything (the epoll fd was closed).
  void Clear();

  // Writes the made-up readiness of the fds the kernel cannot watch as
  // [fd, events] pairs into out from pair `count` on, up to `capacity`
  // pairs; returns the new count.
  size_t AddSynthetic(int32_t* out, size_t count, size_t capacity) const;

  // Calls f(fd) for each fd registered with the kernel.
  template <typename F>
  void ForEachRegistered(F f) const {
    for (int32_t fd : list_) {
      if (entries_[fd].state == kKernel) f(fd);
    }
  }

  size_t size() const { return list_.size(); }
  size_t synthetic() const { return synthetic_count_; }
  // The events registered for fd, 0 when none.
  uint32_t events(int32_t fd) const;

 private:
  enum State : uint8_t { kNone = 0, kKernel, kAlwaysReady, kInvalid };
  struct Entry {
    uint32_t events = 0;
    uint32_t stamp = 0;
    // Index + 1 in list_, 0 when fd is not registered.
    uint32_t position = 0;
    State state = kNone;
  };
  struct Change {
    int32_t fd;
    uint32_t events;
    int32_t flags;
  };

  Entry& At(int32_t fd);
  void Queue(int32_t fd, uint32_t events, int32_t flags);
  int ApplyOne(const Change& change);
  int Add(int32_t fd, uint32_t events);
  int Modify(int32_t fd, uint32_t events);
  int Remove(int32_t fd);
  int Record(int32_t fd, uint32_t events, int result);

  Ctl ctl_;
  std::vector<Entry> entries_;  // By fd.
  std::vector<int32_t> list_;   // The registered fds, dense.
  std::vector<Change> pending_;
  uint32_t stamp_ = 0;
  size_t synthetic_count_ = 0;
};

}  // namespace asyncore

#endif  // ASYNCORE_CORE_EPOLL_INTEREST_H_
