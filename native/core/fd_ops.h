// Plain file descriptor system calls. Every function returns a result >= 0
// or -errno, and retries EINTR itself.
#ifndef ASYNCORE_CORE_FD_OPS_H_
#define ASYNCORE_CORE_FD_OPS_H_

#include <stddef.h>
#include <sys/types.h>

namespace asyncore {

int Pipe(int fds[2]);  // Both ends close-on-exec.
int Dup(int fd);       // The copy is close-on-exec.
int Close(int fd);
ssize_t Read(int fd, void* buf, size_t len);
ssize_t Write(int fd, const void* buf, size_t len);
int SetBlocking(int fd, bool blocking);
int GetBlocking(int fd);  // 1 blocking, 0 non-blocking, or -errno.
int SetInheritable(int fd, bool inheritable);
int GetInheritable(int fd);

// Waits until fd has one of events (POLLIN, POLLOUT...) or timeout_ms
// passes, however long: 1 when ready, -ETIMEDOUT when not, -errno on failure.
int WaitFd(int fd, short events, double timeout_ms);

}  // namespace asyncore

#endif  // ASYNCORE_CORE_FD_OPS_H_
