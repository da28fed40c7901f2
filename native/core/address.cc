#include "address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

namespace asyncore {

namespace {

int ResolveUnix(const char* path, size_t length, Sockaddr* out) {
  auto* un = reinterpret_cast<struct sockaddr_un*>(&out->storage);
  bool abstract = length > 0 && path[0] == '\0';
  // A path needs room for its NUL; an abstract name does not have one.
  size_t limit = abstract ? sizeof(un->sun_path) : sizeof(un->sun_path) - 1;
  if (length > limit) return -ENAMETOOLONG;
  un->sun_family = AF_UNIX;
  // An empty path asks Linux to autobind an abstract name, which it does
  // only for an address that ends before sun_path (as CPython passes it).
  if (length == 0) {
    out->length =
        static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path));
    return 0;
  }
  memcpy(un->sun_path, path, length);
  out->length = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) +
                                       length + (abstract ? 0 : 1));
  return 0;
}

int LookUp(int family, int type, const char* host, Sockaddr* out) {
  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = family;
  hints.ai_socktype = type;
  struct addrinfo* results = nullptr;
  int error = getaddrinfo(host, nullptr, &hints, &results);
  if (error == EAI_SYSTEM) return -errno;
  if (error != 0) return kGaiErrorBase - error;
  memcpy(&out->storage, results->ai_addr, results->ai_addrlen);
  out->length = results->ai_addrlen;
  freeaddrinfo(results);
  return 0;
}

int ResolveInet(int type, const char* host, int port, Sockaddr* out) {
  auto* in = reinterpret_cast<struct sockaddr_in*>(&out->storage);
  int result = 0;
  if (host[0] == '\0') {
    in->sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (strcmp(host, "<broadcast>") == 0) {
    in->sin_addr.s_addr = htonl(INADDR_BROADCAST);
  } else if (inet_pton(AF_INET, host, &in->sin_addr) != 1) {
    result = LookUp(AF_INET, type, host, out);
    if (result != 0) return result;
  }
  in->sin_family = AF_INET;
  in->sin_port = htons(static_cast<uint16_t>(port));
  out->length = sizeof(*in);
  return 0;
}

int ResolveInet6(int type, const char* host, int port, uint32_t flowinfo,
                 uint32_t scope_id, Sockaddr* out) {
  auto* in6 = reinterpret_cast<struct sockaddr_in6*>(&out->storage);
  if (host[0] == '\0') {
    in6->sin6_addr = in6addr_any;
  } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
    // Names, and numeric addresses with a "%zone", go through getaddrinfo.
    int result = LookUp(AF_INET6, type, host, out);
    if (result != 0) return result;
    if (scope_id == 0) scope_id = in6->sin6_scope_id;
  }
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(static_cast<uint16_t>(port));
  in6->sin6_flowinfo = htonl(flowinfo);
  in6->sin6_scope_id = scope_id;
  out->length = sizeof(*in6);
  return 0;
}

}  // namespace

int ResolveAddress(int family, int type, const char* host, size_t host_length,
                   int port, uint32_t flowinfo, uint32_t scope_id,
                   Sockaddr* out) {
  memset(&out->storage, 0, sizeof(out->storage));
  out->length = 0;
  switch (family) {
    case AF_UNIX:
      return ResolveUnix(host, host_length, out);
    case AF_INET:
      return ResolveInet(type, host, port, out);
    case AF_INET6:
      return ResolveInet6(type, host, port, flowinfo, scope_id, out);
    default:
      return -EAFNOSUPPORT;
  }
}

int DescribeAddress(const struct sockaddr* addr, socklen_t length,
                    AddressParts* out) {
  char text[INET6_ADDRSTRLEN];
  // An unnamed unix socket has a length that ends before sun_path.
  if (length < static_cast<socklen_t>(sizeof(sa_family_t))) {
    out->family = AF_UNIX;
    out->host.clear();
    return 0;
  }
  out->family = addr->sa_family;
  switch (addr->sa_family) {
    case AF_INET: {
      auto* in = reinterpret_cast<const struct sockaddr_in*>(addr);
      inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
      out->host = text;
      out->port = ntohs(in->sin_port);
      return 0;
    }
    case AF_INET6: {
      auto* in6 = reinterpret_cast<const struct sockaddr_in6*>(addr);
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
      out->host = text;
      out->port = ntohs(in6->sin6_port);
      out->flowinfo = ntohl(in6->sin6_flowinfo);
      out->scope_id = in6->sin6_scope_id;
      return 0;
    }
    case AF_UNIX: {
      auto* un = reinterpret_cast<const struct sockaddr_un*>(addr);
      size_t offset = offsetof(struct sockaddr_un, sun_path);
      size_t size = length > offset ? length - offset : 0;
      // A path is NUL-terminated within the length; an abstract name
      // (leading NUL) is exactly size bytes.
      if (size > 0 && un->sun_path[0] != '\0') {
        size = strnlen(un->sun_path, size);
      }
      out->host.assign(un->sun_path, size);
      return 0;
    }
    default:
      return -EAFNOSUPPORT;
  }
}

}  // namespace asyncore
