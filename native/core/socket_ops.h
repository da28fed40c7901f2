// Socket system calls. Every function returns a result >= 0 or -errno and
// retries EINTR itself. New fds are close-on-exec (SOCK_CLOEXEC, accept4);
// sends pass MSG_NOSIGNAL, so a dead peer is EPIPE, never SIGPIPE.
//
// timeout_ms follows Python's socket timeout: < 0 the fd is blocking and the
// call blocks; 0 the fd is non-blocking and the call does not wait; > 0 the
// fd is non-blocking and the call first waits for readiness, for at most
// that long in total, then fails with -ETIMEDOUT (CPython's sock_call_ex()).
#ifndef ASYNCORE_CORE_SOCKET_OPS_H_
#define ASYNCORE_CORE_SOCKET_OPS_H_

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "address.h"

namespace asyncore {

int Socket(int family, int type, int protocol);
int SocketPair(int family, int type, int protocol, int fds[2]);
int Bind(int fd, const Sockaddr& addr);
int Listen(int fd, int backlog);
// The new fd is close-on-exec and blocking; its peer goes to peer.
int Accept(int fd, double timeout_ms, Sockaddr* peer);
int Connect(int fd, const Sockaddr& addr, double timeout_ms);
ssize_t Send(int fd, const void* data, size_t length, int flags,
             double timeout_ms);
ssize_t SendTo(int fd, const void* data, size_t length, int flags,
               const Sockaddr& addr, double timeout_ms);
ssize_t Recv(int fd, void* buf, size_t length, int flags, double timeout_ms);
// One recv() on a blocking socket whose SO_RCVTIMEO the caller has set to
// at most timeout_ms: one system call that waits, where Recv() with a
// timeout makes two (poll(), recv()). -EAGAIN once the wait has passed. A
// signal (EINTR) waits out only the rest of timeout_ms.
ssize_t RecvWithin(int fd, void* buf, size_t length, int flags,
                   double timeout_ms);
ssize_t RecvFrom(int fd, void* buf, size_t length, int flags, double timeout_ms,
                 Sockaddr* from);
int Shutdown(int fd, int how);
int GetSockName(int fd, Sockaddr* out);
int GetPeerName(int fd, Sockaddr* out);
int SetSockOpt(int fd, int level, int name, const void* value,
               socklen_t length);
int GetSockOpt(int fd, int level, int name, void* value, socklen_t* length);
bool HasIpv6();

// sendmsg(2) of data with the fds as one SCM_RIGHTS message (at most
// kMaxFds), to addr when it is not null. MSG_NOSIGNAL is always added.
constexpr size_t kMaxFds = 253;  // SCM_MAX_FD in the Linux kernel
ssize_t SendFds(int fd, const void* data, size_t length, const int* fds,
                size_t fd_count, int flags, const Sockaddr* addr,
                double timeout_ms);
// recvmsg(2) of up to length bytes and up to max_fds fds, received
// close-on-exec (MSG_CMSG_CLOEXEC). The fds go to fds (*fd_count of them),
// the recvmsg flags to *msg_flags (MSG_CTRUNC: fds beyond max_fds came and
// were closed), the sender's address to *from.
ssize_t RecvFds(int fd, void* buf, size_t length, int* fds, size_t max_fds,
                size_t* fd_count, int* msg_flags, int flags, double timeout_ms,
                Sockaddr* from);

}  // namespace asyncore

#endif  // ASYNCORE_CORE_SOCKET_OPS_H_
