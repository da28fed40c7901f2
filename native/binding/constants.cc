// The platform's numbers for the constants the modules export, read from the
// system headers so that they are right on every platform the addon builds
// for.
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#if defined(__linux__)
#include <sys/epoll.h>
#endif

#include "../core/address.h"
#include "functions.h"

namespace asyncore {

void DefineConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object constants = Napi::Object::New(env);
#define ASYNCORE_CONSTANT(name) \
  constants.Set(#name, Napi::Number::New(env, name))
  ASYNCORE_CONSTANT(AF_UNSPEC);
  ASYNCORE_CONSTANT(AF_INET);
  ASYNCORE_CONSTANT(AF_INET6);
  ASYNCORE_CONSTANT(AF_UNIX);
  ASYNCORE_CONSTANT(SOCK_STREAM);
  ASYNCORE_CONSTANT(SOCK_DGRAM);
  ASYNCORE_CONSTANT(SOCK_RAW);
  ASYNCORE_CONSTANT(SOCK_SEQPACKET);
#if defined(SOCK_NONBLOCK)
  ASYNCORE_CONSTANT(SOCK_NONBLOCK);
  ASYNCORE_CONSTANT(SOCK_CLOEXEC);
#endif
  ASYNCORE_CONSTANT(SOL_SOCKET);
  ASYNCORE_CONSTANT(SO_REUSEADDR);
#if defined(SO_REUSEPORT)
  ASYNCORE_CONSTANT(SO_REUSEPORT);
#endif
  ASYNCORE_CONSTANT(SO_ERROR);
  ASYNCORE_CONSTANT(SO_RCVBUF);
  ASYNCORE_CONSTANT(SO_SNDBUF);
  ASYNCORE_CONSTANT(SO_KEEPALIVE);
  ASYNCORE_CONSTANT(SO_LINGER);
  ASYNCORE_CONSTANT(SO_TYPE);
  ASYNCORE_CONSTANT(SO_BROADCAST);
#if defined(SO_DOMAIN)
  ASYNCORE_CONSTANT(SO_DOMAIN);
  ASYNCORE_CONSTANT(SO_PROTOCOL);
#endif
  ASYNCORE_CONSTANT(SOMAXCONN);
  ASYNCORE_CONSTANT(IPPROTO_IP);
  ASYNCORE_CONSTANT(IPPROTO_TCP);
  ASYNCORE_CONSTANT(IPPROTO_UDP);
  ASYNCORE_CONSTANT(IPPROTO_IPV6);
  ASYNCORE_CONSTANT(IPV6_V6ONLY);
  ASYNCORE_CONSTANT(TCP_NODELAY);
  ASYNCORE_CONSTANT(MSG_OOB);
  ASYNCORE_CONSTANT(MSG_PEEK);
  ASYNCORE_CONSTANT(MSG_DONTWAIT);
  ASYNCORE_CONSTANT(MSG_WAITALL);
  ASYNCORE_CONSTANT(SHUT_RD);
  ASYNCORE_CONSTANT(SHUT_WR);
  ASYNCORE_CONSTANT(SHUT_RDWR);
  ASYNCORE_CONSTANT(POLLIN);
  ASYNCORE_CONSTANT(POLLPRI);
  ASYNCORE_CONSTANT(POLLOUT);
  ASYNCORE_CONSTANT(POLLERR);
  ASYNCORE_CONSTANT(POLLHUP);
  ASYNCORE_CONSTANT(POLLNVAL);
  ASYNCORE_CONSTANT(POLLRDNORM);
  ASYNCORE_CONSTANT(POLLRDBAND);
  ASYNCORE_CONSTANT(POLLWRNORM);
  ASYNCORE_CONSTANT(POLLWRBAND);
#if defined(POLLRDHUP)
  ASYNCORE_CONSTANT(POLLRDHUP);
#endif
#if defined(__linux__)
  ASYNCORE_CONSTANT(EPOLLIN);
  ASYNCORE_CONSTANT(EPOLLOUT);
  ASYNCORE_CONSTANT(EPOLLPRI);
  ASYNCORE_CONSTANT(EPOLLERR);
  ASYNCORE_CONSTANT(EPOLLHUP);
  ASYNCORE_CONSTANT(EPOLLRDHUP);
  ASYNCORE_CONSTANT(EPOLLRDNORM);
  ASYNCORE_CONSTANT(EPOLLRDBAND);
  ASYNCORE_CONSTANT(EPOLLWRNORM);
  ASYNCORE_CONSTANT(EPOLLWRBAND);
  ASYNCORE_CONSTANT(EPOLLMSG);
  ASYNCORE_CONSTANT(EPOLL_CLOEXEC);
  ASYNCORE_CONSTANT(EPOLL_CTL_ADD);
  ASYNCORE_CONSTANT(EPOLL_CTL_DEL);
  ASYNCORE_CONSTANT(EPOLL_CTL_MOD);
  // These are bits 26-31 and do not fit a signed 32-bit enum on every libc;
  // the numbers are Linux's ABI.
  constants.Set("EPOLLEXCLUSIVE", Napi::Number::New(env, 1u << 28));
  constants.Set("EPOLLWAKEUP", Napi::Number::New(env, 1u << 29));
  constants.Set("EPOLLONESHOT", Napi::Number::New(env, 1u << 30));
  constants.Set("EPOLLET", Napi::Number::New(env, 1u << 31));
#endif
#undef ASYNCORE_CONSTANT
  exports.Set("constants", constants);
  exports.Set("FD_SETSIZE", Napi::Number::New(env, FD_SETSIZE));
#if defined(__linux__)
  // epoll_wait(2) refuses more (EINVAL): the kernel's EP_MAX_EVENTS.
  exports.Set("EPOLL_MAX_EVENTS",
              Napi::Number::New(env, INT_MAX / sizeof(struct epoll_event)));
#endif
  exports.Set("GAI_ERROR_BASE", Napi::Number::New(env, kGaiErrorBase));
}

}  // namespace asyncore
