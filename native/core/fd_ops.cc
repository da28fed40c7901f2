#include "fd_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "deadline.h"

namespace asyncore {

int Pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno; }

int Dup(int fd) {
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return copy >= 0 ? copy : -errno;
}

int Close(int fd) {
  // Linux releases the fd even when close() fails with EINTR, so it must
  // not be retried: a retry could close an fd another thread just opened.
  if (close(fd) == 0 || errno == EINTR) return 0;
  return -errno;
}

ssize_t Read(int fd, void* buf, size_t len) {
  ssize_t n;
  do {
    n = read(fd, buf, len);
  } while (n < 0 && errno == EINTR);
  return n >= 0 ? n : -errno;
}

ssize_t Write(int fd, const void* buf, size_t len) {
  ssize_t n;
  do {
    n = write(fd, buf, len);
  } while (n < 0 && errno == EINTR);
  return n >= 0 ? n : -errno;
}

static int SetFlag(int fd, int get_cmd, int set_cmd, int flag, bool on) {
  int flags = fcntl(fd, get_cmd);
  if (flags < 0) return -errno;
  int wanted = on ? (flags | flag) : (flags & ~flag);
  if (wanted != flags && fcntl(fd, set_cmd, wanted) < 0) return -errno;
  return 0;
}

int SetBlocking(int fd, bool blocking) {
  // One system call where F_GETFL + F_SETFL take two (CPython does the same).
  int on = blocking ? 0 : 1;
  return ioctl(fd, FIONBIO, &on) == 0 ? 0 : -errno;
}

int GetBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -errno;
  return (flags & O_NONBLOCK) ? 0 : 1;
}

int SetInheritable(int fd, bool inheritable) {
  return SetFlag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, !inheritable);
}

int GetInheritable(int fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return -errno;
  return (flags & FD_CLOEXEC) ? 0 : 1;
}

int WaitFd(int fd, short events, double timeout_ms) {
  Deadline deadline(timeout_ms);
  struct pollfd pfd = {fd, events, 0};
  for (;;) {
    int n = poll(&pfd, 1, deadline.RemainingWholeMs());
    if (n > 0) return (pfd.revents & POLLNVAL) ? -EBADF : 1;
    // poll() takes at most INT_MAX ms (about 24.8 days): a longer timeout
    // is waited out in as many calls as it takes.
    if (n == 0 && deadline.RemainingMs() > 0) continue;
    if (n == 0) return -ETIMEDOUT;
    if (errno != EINTR) return -errno;
  }
}

}  // namespace asyncore
