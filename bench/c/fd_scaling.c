/*
 * Scenario 3's C ceiling: the cost of one reactor pass with N idle channels
 * and one active pair.
 *
 *   fd_scaling epoll|poll N SECONDS
 *
 * The idle channels are both ends of N/2 socketpairs (no data ever arrives,
 * so N channels cost N descriptors).  The active pair is created last, so
 * its fd is the highest, which is the worst place for poll(2): the pass
 * "handles" it by reading its byte and writing one back from the partner,
 * so every pass finds exactly one ready fd and never sleeps.  Prints
 * {"ok":true,"pass_us_median":..,"in_loop_us":..,"passes":..}
 * (in_loop_us: the mean pass, as the other implementations report it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: fd_scaling epoll|poll N SECONDS\n");
    return 64;
  }
  int use_epoll = !strcmp(argv[1], "epoll");
  int n = atoi(argv[2]);
  double secs = atof(argv[3]);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  int total = n + 1;
  int *fds = malloc(sizeof(int) * (size_t)(n + 2));
  for (int i = 0; i < n; i += 2) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) <
        0) {
      printf("{\"ok\":false,\"error\":\"socketpair: %s\"}\n", strerror(errno));
      return 1;
    }
    fds[i] = sv[0];
    if (i + 1 < n)
      fds[i + 1] = sv[1];
    else
      close(sv[1]);
  }
  int ap[2];
  socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ap);
  fds[n] = ap[0];
  int active = ap[0], partner = ap[1];
  char b = 'x';
  if (write(partner, &b, 1) != 1) return 1;

  int ep = -1;
  struct pollfd *pfds = NULL;
  if (use_epoll) {
    ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < total; i++) {
      struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
      epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    }
  } else {
    pfds = calloc((size_t)total, sizeof *pfds);
    for (int i = 0; i < total; i++) {
      pfds[i].fd = fds[i];
      pfds[i].events = POLLIN;
    }
  }
  size_t cap = 1 << 20, passes = 0;
  uint64_t *t = malloc(cap * sizeof *t);
  struct epoll_event evs[64];
  uint64_t start = now_ns(), deadline = start + (uint64_t)(secs * 1e9);
  uint64_t warm_until = start + (uint64_t)(secs * 0.1e9);
  for (;;) {
    uint64_t t0 = now_ns();
    if (t0 >= deadline || passes == cap) break;
    if (use_epoll) {
      int k = epoll_wait(ep, evs, 64, 1000);
      for (int i = 0; i < k; i++) {
        if (evs[i].data.fd == active) {
          char c;
          if (read(active, &c, 1) == 1 && write(partner, &c, 1) != 1) return 1;
        }
      }
    } else {
      int k = poll(pfds, (nfds_t)total, 1000);
      for (int i = 0; i < total && k > 0; i++) {
        if (pfds[i].revents) {
          k--;
          if (pfds[i].fd == active) {
            char c;
            if (read(active, &c, 1) == 1 && write(partner, &c, 1) != 1)
              return 1;
          }
        }
      }
    }
    uint64_t t1 = now_ns();
    if (t0 >= warm_until) t[passes++] = t1 - t0;
  }
  uint64_t sum = 0;
  for (size_t i = 0; i < passes; i++) sum += t[i];
  qsort(t, passes, sizeof *t, cmp_u64);
  printf(
      "{\"ok\":true,\"pass_us_median\":%.3f,\"in_loop_us\":%.3f,\"passes\":%zu}"
      "\n",
      passes ? (double)t[passes / 2] / 1000.0 : -1.0,
      passes ? (double)sum / (double)passes / 1000.0 : -1.0, passes);
  return 0;
}
