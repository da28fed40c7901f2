// Socket addresses: Python's (host, port[, flowinfo, scope_id]) tuples and
// AF_UNIX paths to and from struct sockaddr.
#ifndef ASYNCORE_CORE_ADDRESS_H_
#define ASYNCORE_CORE_ADDRESS_H_

#include <stdint.h>
#include <sys/socket.h>

#include <string>

namespace asyncore {

// getaddrinfo() errors come back as kGaiErrorBase - EAI_code: positive, so
// they are never mistaken for -errno (glibc's EAI codes are negative).
constexpr int kGaiErrorBase = 1 << 20;

struct Sockaddr {
  struct sockaddr_storage storage;
  socklen_t length;
};

// Fills out for family from host (or, for AF_UNIX, the path of path_length
// bytes in host; a leading NUL names an abstract socket). Hosts follow
// CPython's setipaddr(): "" is the wildcard, "<broadcast>" the broadcast
// address, numeric addresses are parsed, other names go to getaddrinfo().
// Returns 0, -errno, or a getaddrinfo() error as above.
int ResolveAddress(int family, int type, const char* host, size_t host_length,
                   int port, uint32_t flowinfo, uint32_t scope_id,
                   Sockaddr* out);

// An address as Python's makesockaddr() shows it.
struct AddressParts {
  int family = 0;
  std::string host;  // Numeric host for AF_INET/AF_INET6, the path for AF_UNIX.
  int port = 0;
  uint32_t flowinfo = 0;
  uint32_t scope_id = 0;
};

// 0, or -EAFNOSUPPORT for a family it does not know.
int DescribeAddress(const struct sockaddr* addr, socklen_t length,
                    AddressParts* out);

}  // namespace asyncore

#endif  // ASYNCORE_CORE_ADDRESS_H_
