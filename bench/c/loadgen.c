/*
 * Load generator for bench/echo.mjs and bench/churn.mjs.
 *
 * One thread, epoll, level-triggered: it must never be what limits the
 * numbers, so it does no allocation on the hot path and verifies echoed bytes
 * with memcmp against a precomputed alphabet.  Every message is SIZE bytes:
 * SIZE-1 printable bytes that depend on (connection, message number) and a
 * '\n', so line-echo (asynchat) servers and byte-echo servers see the same
 * workload.
 *
 *   loadgen --mode echo  (--tcp PORT | --unix PATH) --conns N --depth D
 *           --warmup S --duration S [--pid SERVER_PID] [--setup-timeout S]
 *   loadgen --mode churn --tcp PORT --conns N --warmup S --duration S [--pid P]
 *
 * Echo: opens N connections, keeps D messages in flight on each, and waits
 * until every connection has had one message echoed (the "setup" phase)
 * before the warm-up starts.  Churn: N concurrent clients each connect, send
 * one message, read it back, close, and start again.
 *
 * Prints one JSON object on stdout.  Exit status 0 on success, 2 on a
 * verification failure, 3 on a connection error, 4 on a setup timeout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE 4096
#define MAX_DEPTH 256

/* Latency histogram: 100 ns buckets up to 1 ms, then 10 us buckets up to
 * 101 ms, then one overflow bucket. */
#define FINE_BUCKETS 10000
#define COARSE_BUCKETS 10000
static uint64_t hist[FINE_BUCKETS + COARSE_BUCKETS + 1];
static uint64_t hist_count;

static void hist_add(uint64_t ns) {
  size_t b;
  if (ns < 1000000) {
    b = ns / 100;
  } else if (ns < 101000000) {
    b = FINE_BUCKETS + (ns - 1000000) / 10000;
  } else {
    b = FINE_BUCKETS + COARSE_BUCKETS;
  }
  hist[b]++;
  hist_count++;
}

/* Midpoint of the bucket holding quantile q, in microseconds (for the
 * overflow bucket, its lower edge: 101 ms). */
static double hist_quantile(double q) {
  if (hist_count == 0) return -1;
  uint64_t want = (uint64_t)(q * (double)hist_count);
  if (want >= hist_count) want = hist_count - 1;
  uint64_t seen = 0;
  for (size_t b = 0; b < sizeof hist / sizeof hist[0]; b++) {
    seen += hist[b];
    if (seen > want) {
      if (b < FINE_BUCKETS) return (double)(b * 100 + 50) / 1000.0;
      if (b < FINE_BUCKETS + COARSE_BUCKETS)
        return (1000000.0 + (double)(b - FINE_BUCKETS) * 10000 + 5000) / 1000.0;
      return 101000.0;
    }
  }
  return -1;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* utime + stime of a process, in clock ticks; -1 if unreadable.  Field 2 of
 * /proc/PID/stat is "(comm)" which may hold spaces, so parse after the last
 * ')' (proc(5)). */
static long long proc_cpu_ticks(int pid) {
  if (pid <= 0) return -1;
  char path[64], buf[2048];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  p += 2; /* now at field 3, state */
  unsigned long long ut = 0, st = 0;
  /* fields 3..13 are skipped, 14 = utime, 15 = stime */
  if (sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
             &st) != 2)
    return -1;
  return (long long)(ut + st);
}

static char alphabet[MAX_SIZE + 64];

static unsigned msg_base(unsigned conn, uint64_t msg) {
  return (unsigned)((conn * 7u + msg * 13u) % 26u);
}

typedef struct {
  int fd;
  unsigned id;
  int state; /* 0 unused, 1 connecting, 2 running */
  int want_out;
  uint64_t sent_bytes; /* bytes written to the socket */
  uint64_t recv_bytes; /* bytes read and verified */
  uint64_t started_ns; /* churn: when the connect began */
  uint64_t ts[MAX_DEPTH];
} conn_t;

static const char *opt_mode = "echo";
static int opt_port = -1;
static const char *opt_unix = NULL;
static int opt_conns = 1, opt_depth = 1, opt_size = 64, opt_pid = 0;
static double opt_warmup = 1, opt_duration = 2, opt_setup_timeout = 30;

static int epfd;
static conn_t *conns;
static int size;

static void die_json(int code, const char *what, unsigned conn, int err) {
  printf(
      "{\"ok\":false,\"error\":\"%s\",\"conn\":%u,\"errno\":%d,"
      "\"strerror\":\"%s\"}\n",
      what, conn, err, err ? strerror(err) : "");
  fflush(stdout);
  exit(code);
}

static int open_conn(conn_t *c) {
  int fd;
  if (opt_unix) {
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strncpy(sa.sun_path, opt_unix, sizeof sa.sun_path - 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
        errno != EINPROGRESS && errno != EAGAIN) {
      int e = errno;
      close(fd);
      return -e;
    }
  } else {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)opt_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
        errno != EINPROGRESS) {
      int e = errno;
      close(fd);
      return -e;
    }
  }
  c->fd = fd;
  c->state = 1;
  c->want_out = 1;
  c->sent_bytes = 0;
  c->recv_bytes = 0;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) return -errno;
  return 0;
}

static void set_out(conn_t *c, int want) {
  if (c->want_out == want) return;
  c->want_out = want;
  struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0),
                           .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write as much of the messages allowed in flight as the socket takes. */
static int pump_out(conn_t *c, uint64_t limit_bytes, uint64_t now) {
  char buf[MAX_SIZE * 16];
  while (c->sent_bytes < limit_bytes) {
    uint64_t from = c->sent_bytes;
    uint64_t to = limit_bytes;
    if (to - from > sizeof buf) to = from + sizeof buf;
    /* Fill buf with stream bytes [from, to). */
    size_t k = 0;
    for (uint64_t p = from; p < to;) {
      uint64_t msg = p / (uint64_t)size;
      unsigned off = (unsigned)(p % (uint64_t)size);
      unsigned take = (unsigned)size - off;
      if ((uint64_t)take > to - p) take = (unsigned)(to - p);
      if (off == 0) c->ts[msg % MAX_DEPTH] = now;
      unsigned base = msg_base(c->id, msg);
      unsigned body = take;
      if (off + take == (unsigned)size) body--;
      memcpy(buf + k, alphabet + base + off, body);
      if (body < take) buf[k + body] = '\n';
      k += take;
      p += take;
    }
    ssize_t n = send(c->fd, buf, k, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        set_out(c, 1);
        return 0;
      }
      return -errno;
    }
    c->sent_bytes += (uint64_t)n;
  }
  set_out(c, 0);
  return 0;
}

/* Verify bytes [c->recv_bytes, +n) of the stream; returns number of
 * complete messages, or -1 on mismatch. */
static int verify(conn_t *c, const char *data, size_t n, uint64_t now,
                  int record) {
  int done = 0;
  size_t i = 0;
  while (i < n) {
    uint64_t p = c->recv_bytes;
    uint64_t msg = p / (uint64_t)size;
    unsigned off = (unsigned)(p % (uint64_t)size);
    unsigned take = (unsigned)size - off;
    if ((size_t)take > n - i) take = (unsigned)(n - i);
    unsigned base = msg_base(c->id, msg);
    unsigned body = take;
    int ends = (off + take == (unsigned)size);
    if (ends) body--;
    if (body && memcmp(data + i, alphabet + base + off, body) != 0) return -1;
    if (ends) {
      if (data[i + body] != '\n') return -1;
      done++;
      if (record) hist_add(now - c->ts[msg % MAX_DEPTH]);
    }
    c->recv_bytes += take;
    i += take;
  }
  return done;
}

static int parse_args(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) return -1;
    if (!strcmp(a, "--mode"))
      opt_mode = v;
    else if (!strcmp(a, "--tcp"))
      opt_port = atoi(v);
    else if (!strcmp(a, "--unix"))
      opt_unix = v;
    else if (!strcmp(a, "--conns"))
      opt_conns = atoi(v);
    else if (!strcmp(a, "--depth"))
      opt_depth = atoi(v);
    else if (!strcmp(a, "--size"))
      opt_size = atoi(v);
    else if (!strcmp(a, "--pid"))
      opt_pid = atoi(v);
    else if (!strcmp(a, "--warmup"))
      opt_warmup = atof(v);
    else if (!strcmp(a, "--duration"))
      opt_duration = atof(v);
    else if (!strcmp(a, "--setup-timeout"))
      opt_setup_timeout = atof(v);
    else
      return -1;
    i++;
  }
  if (opt_port < 0 && !opt_unix) return -1;
  if (opt_conns < 1 || opt_depth < 1 || opt_depth > MAX_DEPTH) return -1;
  if (opt_size < 2 || opt_size > MAX_SIZE) return -1;
  return 0;
}

static void raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* Longest stretch of the measured window with no completed message: a
 * stall (a lost wake-up, a starved CPU) shows here even when the median
 * hides it. */
static uint64_t max_gap_ns, last_done_ns;

static void note_done(uint64_t now) {
  if (last_done_ns && now - last_done_ns > max_gap_ns)
    max_gap_ns = now - last_done_ns;
  last_done_ns = now;
}

static void print_result(uint64_t msgs, double secs, long long cpu0,
                         long long cpu1, double setup_s, uint64_t errors,
                         int churn) {
  double cpu = -1;
  if (cpu0 >= 0 && cpu1 >= 0)
    cpu = (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) / secs;
  printf(
      "{\"ok\":true,\"mode\":\"%s\",\"conns\":%d,\"depth\":%d,\"size\":%d,"
      "\"%s\":%.1f,\"count\":%llu,\"seconds\":%.4f,\"p50_us\":%.2f,"
      "\"p99_us\":%.2f,\"server_cpu\":%.3f,\"setup_s\":%.4f,"
      "\"max_gap_ms\":%.2f,\"errors\":%llu}\n",
      opt_mode, opt_conns, opt_depth, size, churn ? "conn_per_s" : "rt_per_s",
      (double)msgs / secs, (unsigned long long)msgs, secs, hist_quantile(0.50),
      hist_quantile(0.99), cpu, setup_s, (double)max_gap_ns / 1e6,
      (unsigned long long)errors);
  fflush(stdout);
}

static int run_echo(void) {
  uint64_t t_start = now_ns();
  uint64_t setup_deadline = t_start + (uint64_t)(opt_setup_timeout * 1e9);
  for (int i = 0; i < opt_conns; i++) {
    conns[i].id = (unsigned)i;
    int r = open_conn(&conns[i]);
    if (r < 0) die_json(3, "connect", (unsigned)i, -r);
  }
  int ready = 0; /* connections that have had one echo back */
  int phase = 0; /* 0 setup, 1 warm-up, 2 measuring */
  uint64_t t_warm = 0, t_meas = 0, t_end = 0;
  uint64_t total = 0, total_at_meas = 0;
  long long cpu0 = -1;
  double setup_s = 0;
  struct epoll_event evs[1024];
  char rbuf[65536];
  uint64_t in_flight = (uint64_t)opt_depth * (uint64_t)size;

  for (;;) {
    uint64_t now = now_ns();
    if (phase == 0 && ready == opt_conns) {
      phase = 1;
      t_warm = now;
      setup_s = (double)(now - t_start) / 1e9;
      t_meas = t_warm + (uint64_t)(opt_warmup * 1e9);
      t_end = t_meas + (uint64_t)(opt_duration * 1e9);
    }
    if (phase == 0 && now > setup_deadline) {
      printf(
          "{\"ok\":false,\"error\":\"setup timeout\",\"ready\":%d,"
          "\"conns\":%d}\n",
          ready, opt_conns);
      fflush(stdout);
      return 4;
    }
    if (phase == 1 && now >= t_meas) {
      phase = 2;
      total_at_meas = total;
      cpu0 = proc_cpu_ticks(opt_pid);
      t_meas = now;
      last_done_ns = now;
    }
    if (phase == 2 && now >= t_end) {
      note_done(now);
      long long cpu1 = proc_cpu_ticks(opt_pid);
      print_result(total - total_at_meas, (double)(now - t_meas) / 1e9, cpu0,
                   cpu1, setup_s, 0, 0);
      return 0;
    }
    int n = epoll_wait(epfd, evs, 1024, 50);
    if (n < 0) {
      if (errno == EINTR) continue;
      die_json(3, "epoll_wait", 0, errno);
    }
    now = now_ns();
    int record = (phase == 2 && now < t_end);
    for (int k = 0; k < n; k++) {
      conn_t *c = evs[k].data.ptr;
      uint32_t e = evs[k].events;
      if (c->state == 1) {
        if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err) die_json(3, "connect", c->id, err);
          c->state = 2;
          int r = pump_out(c, in_flight, now);
          if (r < 0) die_json(3, "send", c->id, -r);
        }
        continue;
      }
      if (e & EPOLLIN) {
        ssize_t got = recv(c->fd, rbuf, sizeof rbuf, 0);
        if (got == 0) die_json(3, "server closed connection", c->id, 0);
        if (got < 0) {
          if (errno != EAGAIN && errno != EINTR)
            die_json(3, "recv", c->id, errno);
        } else {
          uint64_t before = c->recv_bytes;
          int done = verify(c, rbuf, (size_t)got, now, record);
          if (done < 0) die_json(2, "echoed bytes differ", c->id, 0);
          if (before == 0 && done > 0) ready++;
          total += (uint64_t)done;
          if (done && record) note_done(now);
          if (done) {
            uint64_t limit =
                (c->recv_bytes / (uint64_t)size) * (uint64_t)size + in_flight;
            int r = pump_out(c, limit, now);
            if (r < 0) die_json(3, "send", c->id, -r);
          }
        }
      } else if (e & (EPOLLERR | EPOLLHUP)) {
        die_json(3, "connection error", c->id, 0);
      }
      if ((e & EPOLLOUT) && c->want_out) {
        uint64_t limit =
            (c->recv_bytes / (uint64_t)size) * (uint64_t)size + in_flight;
        int r = pump_out(c, limit, now);
        if (r < 0) die_json(3, "send", c->id, -r);
      }
    }
  }
}

static int run_churn(void) {
  uint64_t t_start = now_ns();
  uint64_t t_meas = t_start + (uint64_t)(opt_warmup * 1e9);
  uint64_t t_end = t_meas + (uint64_t)(opt_duration * 1e9);
  uint64_t total = 0, total_at_meas = 0, errors = 0;
  uint64_t serial = 0;
  int measuring = 0;
  long long cpu0 = -1;
  struct epoll_event evs[1024];
  char rbuf[65536];
  for (int i = 0; i < opt_conns; i++) {
    conns[i].id = (unsigned)(serial++ & 0xffff);
    conns[i].started_ns = t_start;
    int r = open_conn(&conns[i]);
    if (r < 0) die_json(3, "connect", (unsigned)i, -r);
  }
  for (;;) {
    uint64_t now = now_ns();
    if (!measuring && now >= t_meas) {
      measuring = 1;
      total_at_meas = total;
      cpu0 = proc_cpu_ticks(opt_pid);
      t_meas = now;
      last_done_ns = now;
    }
    if (measuring && now >= t_end) {
      note_done(now);
      long long cpu1 = proc_cpu_ticks(opt_pid);
      print_result(total - total_at_meas, (double)(now - t_meas) / 1e9, cpu0,
                   cpu1, 0, errors, 1);
      return 0;
    }
    int n = epoll_wait(epfd, evs, 1024, 50);
    if (n < 0) {
      if (errno == EINTR) continue;
      die_json(3, "epoll_wait", 0, errno);
    }
    now = now_ns();
    for (int k = 0; k < n; k++) {
      conn_t *c = evs[k].data.ptr;
      uint32_t e = evs[k].events;
      int finished = 0, failed = 0;
      if (c->state == 1) {
        if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err) {
            failed = 1;
          } else {
            c->state = 2;
            if (pump_out(c, (uint64_t)size, now) < 0) failed = 1;
          }
        }
      } else {
        if (e & EPOLLIN) {
          ssize_t got = recv(c->fd, rbuf, sizeof rbuf, 0);
          if (got == 0) {
            failed = 1;
          } else if (got < 0) {
            if (errno != EAGAIN && errno != EINTR) failed = 1;
          } else {
            int done = verify(c, rbuf, (size_t)got, now, 0);
            if (done < 0) die_json(2, "echoed bytes differ", c->id, 0);
            if (done) finished = 1;
          }
        } else if (e & (EPOLLERR | EPOLLHUP)) {
          failed = 1;
        }
        if (!finished && !failed && (e & EPOLLOUT) && c->want_out) {
          if (pump_out(c, (uint64_t)size, now) < 0) failed = 1;
        }
      }
      if (finished || failed) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        if (finished) {
          total++;
          if (measuring && now < t_end) {
            hist_add(now - c->started_ns);
            note_done(now);
          }
        } else {
          errors++;
        }
        c->id = (unsigned)(serial++ & 0xffff);
        c->started_ns = now;
        int r = open_conn(c);
        if (r < 0) {
          /* Out of ephemeral ports or similar: count it, back off briefly
           * and retry once; give up if the error persists. */
          errors++;
          struct timespec ts = {0, 1000000};
          nanosleep(&ts, NULL);
          r = open_conn(c);
          if (r < 0) die_json(3, "connect", c->id, -r);
        }
      }
    }
  }
}

int main(int argc, char **argv) {
  if (parse_args(argc, argv) < 0) {
    fprintf(stderr,
            "usage: loadgen --mode echo|churn (--tcp PORT | --unix PATH) "
            "--conns N [--depth D] [--size B] [--warmup S] [--duration S] "
            "[--pid SERVER_PID] [--setup-timeout S]\n");
    return 64;
  }
  raise_nofile();
  size = opt_size;
  for (size_t i = 0; i < sizeof alphabet; i++)
    alphabet[i] = (char)('a' + i % 26);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  conns = calloc((size_t)opt_conns, sizeof *conns);
  if (!conns || epfd < 0) return 1;
  if (!strcmp(opt_mode, "echo")) return run_echo();
  if (!strcmp(opt_mode, "churn")) return run_churn();
  fprintf(stderr, "loadgen: unknown mode %s\n", opt_mode);
  return 64;
}
