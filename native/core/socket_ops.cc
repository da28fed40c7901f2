#include "socket_ops.h"

#include <errno.h>
#include <poll.h>

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

bool HasIpv6() {
  int fd = Socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  Close(fd);
  return true;
}

}  // namespace asyncore
