/*
 * The ceiling: a one-thread, level-triggered epoll echo server in C.
 *
 *   echo_epoll (--tcp PORT | --unix PATH)
 *
 * PORT 0 binds an ephemeral port.  Prints "ready <port|path>" once listening.
 * Accepts until EAGAIN (accept4), reads up to 64 KiB, writes it straight
 * back; what the socket does not take is kept and sent on EPOLLOUT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct {
  int fd;
  char *pending;
  size_t len, cap;
} client_t;

static int epfd;
static int lfd;

static void drop(client_t *c) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->pending);
  free(c);
}

/* Returns 0 if everything was written or kept, -1 if the peer is gone. */
static int send_or_keep(client_t *c, const char *data, size_t n) {
  size_t off = 0;
  if (c->len == 0) {
    while (off < n) {
      ssize_t w = send(c->fd, data + off, n - off, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) break;
        return -1;
      }
      off += (size_t)w;
    }
    if (off == n) return 0;
  }
  size_t rest = n - off;
  if (c->len + rest > c->cap) {
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + rest) cap *= 2;
    char *p = realloc(c->pending, cap);
    if (!p) return -1;
    c->pending = p;
    c->cap = cap;
  }
  memcpy(c->pending + c->len, data + off, rest);
  int was_empty = c->len == 0;
  c->len += rest;
  if (was_empty) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
  }
  return 0;
}

static int flush_pending(client_t *c) {
  size_t off = 0;
  while (off < c->len) {
    ssize_t w = send(c->fd, c->pending + off, c->len - off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return -1;
    }
    off += (size_t)w;
  }
  memmove(c->pending, c->pending + off, c->len - off);
  c->len -= off;
  if (c->len == 0) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "--tcp") && strcmp(argv[1], "--unix"))) {
    fprintf(stderr, "usage: echo_epoll (--tcp PORT | --unix PATH)\n");
    return 64;
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  int is_unix = !strcmp(argv[1], "--unix");
  char label[128];
  if (is_unix) {
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strncpy(sa.sun_path, argv[2], sizeof sa.sun_path - 1);
    unlink(argv[2]);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0) {
      perror("bind");
      return 1;
    }
    snprintf(label, sizeof label, "%s", argv[2]);
  } else {
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(argv[2]));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0) {
      perror("bind");
      return 1;
    }
    socklen_t len = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &len);
    snprintf(label, sizeof label, "%d", ntohs(sa.sin_port));
  }
  if (listen(lfd, 1024) < 0) {
    perror("listen");
    return 1;
  }
  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
  printf("ready %s\n", label);
  fflush(stdout);

  struct epoll_event evs[512];
  static char buf[65536];
  for (;;) {
    int n = epoll_wait(epfd, evs, 512, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; i++) {
      client_t *c = evs[i].data.ptr;
      if (!c) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          client_t *nc = calloc(1, sizeof *nc);
          nc->fd = fd;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      uint32_t e = evs[i].events;
      if (e & EPOLLOUT) {
        if (flush_pending(c) < 0) {
          drop(c);
          continue;
        }
      }
      if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
          drop(c);
          continue;
        }
        if (r > 0 && send_or_keep(c, buf, (size_t)r) < 0) drop(c);
      }
    }
  }
}
