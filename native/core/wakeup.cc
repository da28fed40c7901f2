#include "wakeup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif

#include "fd_ops.h"

namespace asyncore {

int Wakeup::Open() {
#if defined(__linux__)
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return -errno;
  read_fd_ = write_fd_ = fd;
#else
  int fds[2];
  int result = Pipe(fds);
  if (result < 0) return result;
  SetBlocking(fds[0], false);
  SetBlocking(fds[1], false);
  read_fd_ = fds[0];
  write_fd_ = fds[1];
#endif
  return 0;
}

void Wakeup::Close() {
  if (write_fd_ >= 0 && write_fd_ != read_fd_) asyncore::Close(write_fd_);
  if (read_fd_ >= 0) asyncore::Close(read_fd_);
  read_fd_ = write_fd_ = -1;
}

void Wakeup::Signal() {
  if (pending_.exchange(true)) return;
  // An eventfd takes an 8-byte counter; a pipe takes any byte. A full pipe
  // (EAGAIN) already holds a wake-up, so that failure is harmless.
  uint64_t one = 1;
  Write(write_fd_, &one, sizeof(one));
}

bool Wakeup::Drain() {
  bool was_pending = pending_.exchange(false);
  uint64_t buffer[16];
  while (Read(read_fd_, buffer, sizeof(buffer)) > 0) {
  }
  return was_pending;
}

}  // namespace asyncore
