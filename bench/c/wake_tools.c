/*
 * Wake-up latency helpers for bench/wakeup.mjs.
 *
 *   wake_tools writer COUNT INTERVAL_US LEAD_MS
 *       After LEAD_MS (time for the reader to start), every INTERVAL_US (plus
 * up to 25% jitter, so the reader cannot phase-lock onto it) writes the
 * CLOCK_MONOTONIC time in nanoseconds, as 8 little-endian bytes, to stdout (a
 * pipe); COUNT times, then exits. wake_tools reader The C ceiling: epoll_wait
 * on stdin, read, and report now - stamp for each 8-byte stamp; prints the
 * samples as JSON at end of file.
 *
 * CLOCK_MONOTONIC is one clock for every process on the machine, and it is
 * what Node's process.hrtime and Python's time.monotonic_ns read, so a stamp
 * written here can be subtracted from a reading taken by any reader.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int writer(long count, long interval_us, long lead_ms) {
  struct timespec lead = {lead_ms / 1000, (lead_ms % 1000) * 1000000};
  while (nanosleep(&lead, &lead) < 0 && errno == EINTR) {
  }
  uint64_t seed = now_ns();
  for (long i = 0; i < count; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    long jitter = interval_us > 4
                      ? (long)((seed >> 33) % (uint64_t)(interval_us / 4))
                      : 0;
    struct timespec ts = {(interval_us + jitter) / 1000000,
                          ((interval_us + jitter) % 1000000) * 1000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
    uint64_t t = now_ns();
    unsigned char b[8];
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)(t >> (8 * k));
    if (write(1, b, 8) != 8) return 1;
  }
  return 0;
}

static int reader(void) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = 0};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) < 0) return 1;
  size_t cap = 1024, n = 0;
  double *samples = malloc(cap * sizeof *samples);
  unsigned char buf[4096];
  size_t have = 0;
  for (;;) {
    struct epoll_event out;
    int r = epoll_wait(ep, &out, 1, -1);
    if (r < 0 && errno == EINTR) continue;
    ssize_t got = read(0, buf + have, sizeof buf - have);
    uint64_t now = now_ns();
    if (got <= 0) break;
    have += (size_t)got;
    size_t off = 0;
    for (; off + 8 <= have; off += 8) {
      uint64_t t = 0;
      for (int k = 0; k < 8; k++) t |= (uint64_t)buf[off + k] << (8 * k);
      if (n == cap) samples = realloc(samples, (cap *= 2) * sizeof *samples);
      samples[n++] = (double)(now - t) / 1000.0;
    }
    memmove(buf, buf + off, have - off);
    have -= off;
  }
  printf("{\"samples_us\":[");
  for (size_t i = 0; i < n; i++) printf(i ? ",%.2f" : "%.2f", samples[i]);
  printf("]}\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && !strcmp(argv[1], "writer"))
    return writer(atol(argv[2]), atol(argv[3]), atol(argv[4]));
  if (argc == 2 && !strcmp(argv[1], "reader")) return reader();
  fprintf(stderr,
          "usage: wake_tools writer COUNT INTERVAL_US LEAD_MS | wake_tools "
          "reader\n");
  return 64;
}
