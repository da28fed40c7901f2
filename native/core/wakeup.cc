#include "wakeup.h"

#include <errno.h>
#include <stdint.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif

#include "fd_ops.h"

namespace asyncore {

int Wakeup::Open() {
#if defined(__linux__)
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return -errno;
  read_fd_ = fd;
  write_fd_.store(fd);
#else
  int fds[2];
  int result = Pipe(fds);
  if (result < 0) return result;
  SetBlocking(fds[0], false);
  SetBlocking(fds[1], false);
  read_fd_ = fds[0];
  write_fd_.store(fds[1]);
#endif
  if (pending_.load()) {
    uint64_t one = 1;
    Write(write_fd_.load(), &one, sizeof(one));
  }
  return 0;
}

void Wakeup::Close() {
  int write_fd = write_fd_.exchange(-1);
  if (write_fd >= 0 && write_fd != read_fd_) asyncore::Close(write_fd);
  if (read_fd_ >= 0) asyncore::Close(read_fd_);
  read_fd_ = -1;
}

void Wakeup::Signal() {
  if (pending_.exchange(true)) return;
  // An eventfd takes an 8-byte counter; a pipe takes any byte. A full pipe
  // (EAGAIN) already holds a wake-up, so that failure is harmless.
  // Not open yet: Open() writes it.
  int fd = write_fd_.load();
  if (fd < 0) return;
  uint64_t one = 1;
  Write(fd, &one, sizeof(one));
}

void Wakeup::Drain() {
  // Read first, clear the flag after. The other order loses wake-ups for
  // good: a Signal() between the clear and the read would set the flag and
  // have its write read here, leaving the flag set over an empty fd, so
  // every later Signal() would skip its write (and Close() could wait on a
  // worker that is never woken). In this order a Signal() that lands
  // between the two merges into the wake-up being drained, whose waiter
  // goes on to re-read everything anyway.
#if defined(__linux__)
  // One read resets an eventfd's counter; a second would only fail (EAGAIN).
  uint64_t counter;
  Read(read_fd_, &counter, sizeof(counter));
#else
  uint8_t buffer[128];
  while (Read(read_fd_, buffer, sizeof(buffer)) > 0) {
  }
#endif
  pending_.store(false);
}

}  // namespace asyncore
