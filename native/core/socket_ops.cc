#include "socket_ops.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include <vector>

#include "deadline.h"
#include "fd_ops.h"

namespace asyncore {

namespace {

bool WouldBlock(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

// Runs call() until it does not fail with EINTR; with a positive timeout,
// waits for events before each try and retries on EWOULDBLOCK until the
// deadline, as CPython's sock_call_ex() does.
template <typename Call>
ssize_t CallWithTimeout(int fd, short events, double timeout_ms, Call call) {
  Deadline deadline(timeout_ms);
  for (;;) {
    if (timeout_ms > 0) {
      int ready = WaitFd(fd, events, deadline.RemainingMs());
      if (ready < 0) return ready;
    }
    ssize_t result = call();
    if (result >= 0) return result;
    int error = errno;
    if (error == EINTR) continue;
    if (timeout_ms > 0 && WouldBlock(error)) continue;
    return -error;
  }
}

}  // namespace

int Socket(int family, int type, int protocol) {
  int fd = socket(family, type | SOCK_CLOEXEC, protocol);
  return fd >= 0 ? fd : -errno;
}

int SocketPair(int family, int type, int protocol, int fds[2]) {
  return socketpair(family, type | SOCK_CLOEXEC, protocol, fds) == 0 ? 0
                                                                     : -errno;
}

int Bind(int fd, const Sockaddr& addr) {
  auto* sa = reinterpret_cast<const struct sockaddr*>(&addr.storage);
  return bind(fd, sa, addr.length) == 0 ? 0 : -errno;
}

int Listen(int fd, int backlog) {
  return listen(fd, backlog) == 0 ? 0 : -errno;
}

int Accept(int fd, double timeout_ms, Sockaddr* peer) {
  return static_cast<int>(CallWithTimeout(fd, POLLIN, timeout_ms, [&] {
    peer->length = sizeof(peer->storage);
    auto* sa = reinterpret_cast<struct sockaddr*>(&peer->storage);
    return static_cast<ssize_t>(accept4(fd, sa, &peer->length, SOCK_CLOEXEC));
  }));
}

int Connect(int fd, const Sockaddr& addr, double timeout_ms) {
  auto* sa = reinterpret_cast<const struct sockaddr*>(&addr.storage);
  if (connect(fd, sa, addr.length) == 0) return 0;
  int error = errno;
  // An interrupted blocking connect goes on in the background, and so does
  // one on a socket with a timeout: wait for it and read its outcome from
  // SO_ERROR (CPython's internal_connect()).
  bool wait = (error == EINTR && timeout_ms != 0) ||
              (error == EINPROGRESS && timeout_ms > 0);
  if (!wait) return -error;
  int ready = WaitFd(fd, POLLOUT, timeout_ms);
  if (ready < 0) return ready;
  int so_error = 0;
  socklen_t length = sizeof(so_error);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &length) < 0) {
    return -errno;
  }
  return -so_error;
}

ssize_t Send(int fd, const void* data, size_t length, int flags,
             double timeout_ms) {
  return CallWithTimeout(fd, POLLOUT, timeout_ms, [&] {
    return send(fd, data, length, flags | MSG_NOSIGNAL);
  });
}

ssize_t SendTo(int fd, const void* data, size_t length, int flags,
               const Sockaddr& addr, double timeout_ms) {
  auto* sa = reinterpret_cast<const struct sockaddr*>(&addr.storage);
  return CallWithTimeout(fd, POLLOUT, timeout_ms, [&] {
    return sendto(fd, data, length, flags | MSG_NOSIGNAL, sa, addr.length);
  });
}

ssize_t Recv(int fd, void* buf, size_t length, int flags, double timeout_ms) {
  // MSG_OOB data is not announced by POLLIN but by POLLPRI.
  short events = (flags & MSG_OOB) ? POLLPRI : POLLIN;
  return CallWithTimeout(fd, events, timeout_ms,
                         [&] { return recv(fd, buf, length, flags); });
}

ssize_t RecvWithin(int fd, void* buf, size_t length, int flags,
                   double timeout_ms) {
  Deadline deadline(timeout_ms);
  ssize_t result = recv(fd, buf, length, flags);
  if (result >= 0) return result;
  if (errno != EINTR) return -errno;
  // A new recv() would start SO_RCVTIMEO over: a stream of signals could
  // hold the caller for ever. Only the time left is waited, with poll().
  result = Recv(fd, buf, length, flags | MSG_DONTWAIT, deadline.RemainingMs());
  return result == -ETIMEDOUT ? -EAGAIN : result;
}

ssize_t RecvFrom(int fd, void* buf, size_t length, int flags, double timeout_ms,
                 Sockaddr* from) {
  short events = (flags & MSG_OOB) ? POLLPRI : POLLIN;
  return CallWithTimeout(fd, events, timeout_ms, [&] {
    from->length = sizeof(from->storage);
    auto* sa = reinterpret_cast<struct sockaddr*>(&from->storage);
    return recvfrom(fd, buf, length, flags, sa, &from->length);
  });
}

int Shutdown(int fd, int how) { return shutdown(fd, how) == 0 ? 0 : -errno; }

int GetSockName(int fd, Sockaddr* out) {
  out->length = sizeof(out->storage);
  auto* sa = reinterpret_cast<struct sockaddr*>(&out->storage);
  return getsockname(fd, sa, &out->length) == 0 ? 0 : -errno;
}

int GetPeerName(int fd, Sockaddr* out) {
  out->length = sizeof(out->storage);
  auto* sa = reinterpret_cast<struct sockaddr*>(&out->storage);
  return getpeername(fd, sa, &out->length) == 0 ? 0 : -errno;
}

int SetSockOpt(int fd, int level, int name, const void* value,
               socklen_t length) {
  return setsockopt(fd, level, name, value, length) == 0 ? 0 : -errno;
}

int GetSockOpt(int fd, int level, int name, void* value, socklen_t* length) {
  return getsockopt(fd, level, name, value, length) == 0 ? 0 : -errno;
}

ssize_t SendFds(int fd, const void* data, size_t length, const int* fds,
                size_t fd_count, int flags, const Sockaddr* addr,
                double timeout_ms) {
  if (fd_count > kMaxFds) return -EINVAL;
  struct iovec iov;
  iov.iov_base = const_cast<void*>(data);
  iov.iov_len = length;
  std::vector<char> control(fd_count > 0 ? CMSG_SPACE(sizeof(int) * fd_count)
                                         : 0);
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  if (addr != nullptr) {
    msg.msg_name = const_cast<sockaddr_storage*>(&addr->storage);
    msg.msg_namelen = addr->length;
  }
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fd_count > 0) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
    memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * fd_count);
  }
  return CallWithTimeout(fd, POLLOUT, timeout_ms, [&] {
    return sendmsg(fd, &msg, flags | MSG_NOSIGNAL);
  });
}

ssize_t RecvFds(int fd, void* buf, size_t length, int* fds, size_t max_fds,
                size_t* fd_count, int* msg_flags, int flags, double timeout_ms,
                Sockaddr* from) {
  *fd_count = 0;
  *msg_flags = 0;
  if (max_fds > kMaxFds) return -EINVAL;
  struct iovec iov;
  iov.iov_base = buf;
  iov.iov_len = length;
  std::vector<char> control(max_fds > 0 ? CMSG_SPACE(sizeof(int) * max_fds)
                                        : 0);
  struct msghdr msg;
  ssize_t result = CallWithTimeout(fd, POLLIN, timeout_ms, [&] {
    memset(&msg, 0, sizeof(msg));
    from->length = sizeof(from->storage);
    msg.msg_name = &from->storage;
    msg.msg_namelen = from->length;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.empty() ? nullptr : control.data();
    msg.msg_controllen = control.size();
    return recvmsg(fd, &msg, flags | MSG_CMSG_CLOEXEC);
  });
  if (result < 0) return result;
  from->length = msg.msg_namelen;
  *msg_flags = msg.msg_flags;
  if (msg.msg_controllen == 0) return result;
  for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char* data = CMSG_DATA(cmsg);
    for (size_t i = 0; i < count; ++i) {
      int received;
      memcpy(&received, data + i * sizeof(int), sizeof(int));
      // CMSG_SPACE() rounds up, so the buffer can hold one more fd than
      // asked for (with an odd max_fds on 64-bit) without the kernel
      // truncating: close the extra and report it as MSG_CTRUNC, as a
      // buffer of the exact size would have.
      if (*fd_count < max_fds) {
        fds[(*fd_count)++] = received;
      } else {
        Close(received);
        *msg_flags |= MSG_CTRUNC;
      }
    }
  }
  return result;
}

bool HasIpv6() {
  int fd = Socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  Close(fd);
  return true;
}

}  // namespace asyncore
