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
typedef struct {
  uint64_t bucket[FINE_BUCKETS + COARSE_BUCKETS + 1];
  uint64_t count;
} hist_t;

static void hist_add(hist_t *h, uint64_t ns) {
  size_t b;
  if (ns < 1000000) {
    b = ns / 100;
  } else if (ns < 101000000) {
    b = FINE_BUCKETS + (ns - 1000000) / 10000;
  } else {
    b = FINE_BUCKETS + COARSE_BUCKETS;
  }
  h->bucket[b]++;
  h->count++;
}

/* Midpoint of the bucket holding quantile q, in microseconds (for the
 * overflow bucket, its lower edge: 101 ms). */
static double hist_quantile(const hist_t *h, double q) {
  if (h->count == 0) return -1;
  uint64_t want = (uint64_t)(q * (double)h->count);
  if (want >= h->count) want = h->count - 1;
  uint64_t seen = 0;
  for (size_t b = 0; b < sizeof h->bucket / sizeof h->bucket[0]; b++) {
    seen += h->bucket[b];
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

typedef struct endpoint endpoint_t;

typedef struct {
  int fd;
  unsigned id;
  int state; /* 0 unused, 1 connecting, 2 running, 3 closed */
  int want_out;
  uint64_t sent_bytes; /* bytes written to the socket */
  uint64_t recv_bytes; /* bytes read and verified */
  uint64_t started_ns; /* churn: when the connect began */
  uint64_t ts[MAX_DEPTH];
  endpoint_t *ep;
} conn_t;

/* One server under load: its address, its connections, and what its
 * measured slices added up to. */
struct endpoint {
  int port;              /* TCP port on 127.0.0.1, or -1 */
  const char *unix_path; /* or a unix socket */
  int pid;               /* the server's, for its CPU time; 0 if unknown */
  conn_t *conns;
  int ready;  /* connections that have had one echo back */
  int active; /* may start new messages; otherwise only finishes its own */
  /* The first failure, which ends this endpoint's run (not the others'). */
  const char *error;
  unsigned error_conn;
  int error_errno;
  int exit_code;
  double setup_s;
  /* Measured: set while a slice counts, and the sums over its slices. */
  int recording;
  hist_t hist;
  uint64_t count, measured_ns, max_gap_ns, last_done_ns;
  long long cpu_ticks; /* -1 once a reading failed */
  double *slice_rates;
  int slices;
};

#define MAX_ENDPOINTS 16

static const char *opt_mode = "echo";
static endpoint_t eps[MAX_ENDPOINTS];
static int n_eps, n_pids;
static int opt_conns = 1, opt_depth = 1, opt_size = 64;
static double opt_warmup = 1, opt_duration = 2, opt_setup_timeout = 30;
static double opt_slice_ms = 0;

static int epfd;
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
  endpoint_t *ep = c->ep;
  int fd;
  if (ep->unix_path) {
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strncpy(sa.sun_path, ep->unix_path, sizeof sa.sun_path - 1);
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
    sa.sin_port = htons((uint16_t)ep->port);
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

/* How a non-blocking connect() ended: 0, or its errno. */
static int connect_error(const conn_t *c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err;
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
                  hist_t *record) {
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
      if (record) hist_add(record, now - c->ts[msg % MAX_DEPTH]);
    }
    c->recv_bytes += take;
    i += take;
  }
  return done;
}

static int add_endpoint(int port, const char *unix_path) {
  if (n_eps == MAX_ENDPOINTS) return -1;
  endpoint_t *ep = &eps[n_eps++];
  ep->port = port;
  ep->unix_path = unix_path;
  return 0;
}

static int parse_args(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) return -1;
    if (!strcmp(a, "--mode")) {
      opt_mode = v;
    } else if (!strcmp(a, "--tcp")) {
      if (add_endpoint(atoi(v), NULL) < 0) return -1;
    } else if (!strcmp(a, "--unix")) {
      if (add_endpoint(-1, v) < 0) return -1;
    } else if (!strcmp(a, "--pid")) {
      if (n_pids == MAX_ENDPOINTS) return -1;
      eps[n_pids++].pid = atoi(v);
    } else if (!strcmp(a, "--conns")) {
      opt_conns = atoi(v);
    } else if (!strcmp(a, "--depth")) {
      opt_depth = atoi(v);
    } else if (!strcmp(a, "--size")) {
      opt_size = atoi(v);
    } else if (!strcmp(a, "--warmup")) {
      opt_warmup = atof(v);
    } else if (!strcmp(a, "--duration")) {
      opt_duration = atof(v);
    } else if (!strcmp(a, "--setup-timeout")) {
      opt_setup_timeout = atof(v);
    } else if (!strcmp(a, "--slice-ms")) {
      opt_slice_ms = atof(v);
    } else {
      return -1;
    }
    i++;
  }
  if (n_eps < 1 || n_pids > n_eps) return -1;
  for (int e = 0; e < n_eps; e++)
    if (!eps[e].unix_path && (eps[e].port < 0 || eps[e].port > 65535))
      return -1;
  if (n_eps > 1 && (strcmp(opt_mode, "echo") || opt_slice_ms <= 0)) return -1;
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

/* Longest stretch of a measured slice with no completed message: a stall
 * (a lost wake-up, a starved CPU) shows here even when the median hides
 * it. */
static void note_done(endpoint_t *ep, uint64_t now) {
  if (ep->last_done_ns && now - ep->last_done_ns > ep->max_gap_ns)
    ep->max_gap_ns = now - ep->last_done_ns;
  ep->last_done_ns = now;
}

/* The fields of one endpoint's result, without braces. */
static void print_fields(const endpoint_t *ep, int churn, uint64_t errors) {
  if (ep->error) {
    printf(
        "\"ok\":false,\"error\":\"%s\",\"conn\":%u,\"errno\":%d,"
        "\"strerror\":\"%s\"",
        ep->error, ep->error_conn, ep->error_errno,
        ep->error_errno ? strerror(ep->error_errno) : "");
    if (!strcmp(ep->error, "setup timeout"))
      printf(",\"ready\":%d,\"conns\":%d", ep->ready, opt_conns);
    return;
  }
  double secs = (double)ep->measured_ns / 1e9;
  double cpu = -1;
  if (ep->cpu_ticks >= 0)
    cpu = (double)ep->cpu_ticks / (double)sysconf(_SC_CLK_TCK) / secs;
  printf(
      "\"ok\":true,\"mode\":\"%s\",\"conns\":%d,\"depth\":%d,\"size\":%d,"
      "\"%s\":%.1f,\"count\":%llu,\"seconds\":%.4f,\"p50_us\":%.2f,"
      "\"p99_us\":%.2f,\"server_cpu\":%.3f,\"setup_s\":%.4f,"
      "\"max_gap_ms\":%.2f,\"errors\":%llu",
      opt_mode, opt_conns, opt_depth, size, churn ? "conn_per_s" : "rt_per_s",
      (double)ep->count / secs, (unsigned long long)ep->count, secs,
      hist_quantile(&ep->hist, 0.50), hist_quantile(&ep->hist, 0.99), cpu,
      ep->setup_s, (double)ep->max_gap_ns / 1e6, (unsigned long long)errors);
  if (ep->slices > 1) {
    printf(",\"slices\":[");
    for (int i = 0; i < ep->slices; i++)
      printf("%s%.1f", i ? "," : "", ep->slice_rates[i]);
    printf("]");
  }
}

/* ---------------------------------------------------------------- echo
 *
 * Every endpoint runs in turn, one at a time: its setup, then its warm-up,
 * then the measured time in slices of --slice-ms, the endpoints taking
 * turns slice by slice.  A machine whose speed drifts over seconds then
 * slows every server alike, and a ratio of two servers' neighbouring
 * slices compares them at the same moment.  A slice ends when its
 * endpoint's messages in flight have come back (they count in it), so no
 * round trip is lost or split between two endpoints.  One endpoint, without
 * --slice-ms, is one slice: setup, warm-up, then the whole duration. */

static char rbuf[65536];

static void fail(endpoint_t *ep, int code, const char *what, unsigned conn,
                 int err) {
  if (ep->error) return;
  ep->error = what;
  ep->error_conn = conn;
  ep->error_errno = err;
  ep->exit_code = code;
  ep->active = 0;
  for (int i = 0; i < opt_conns; i++) {
    conn_t *c = &ep->conns[i];
    if (c->state == 1 || c->state == 2) {
      epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
      close(c->fd);
    }
    c->state = 3;
  }
}

/* How far conn c may have written: depth messages ahead of what came back,
 * or, for an endpoint that is not active, to the end of the message it is
 * writing. */
static uint64_t send_limit(const conn_t *c) {
  uint64_t limit = (c->recv_bytes / (uint64_t)size) * (uint64_t)size +
                   (uint64_t)opt_depth * (uint64_t)size;
  if (c->ep->active || c->state == 1) return limit;
  uint64_t whole =
      (c->sent_bytes + (uint64_t)size - 1) / (uint64_t)size * (uint64_t)size;
  return whole < limit ? whole : limit;
}

static void on_event(conn_t *c, uint32_t e, uint64_t now) {
  endpoint_t *ep = c->ep;
  if (c->state == 3) return;
  if (c->state == 1) {
    if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
      int err = connect_error(c);
      if (err) {
        fail(ep, 3, "connect", c->id, err);
        return;
      }
      c->state = 2;
      int r = pump_out(c, (uint64_t)opt_depth * (uint64_t)size, now);
      if (r < 0) fail(ep, 3, "send", c->id, -r);
    }
    return;
  }
  if (e & EPOLLIN) {
    ssize_t got = recv(c->fd, rbuf, sizeof rbuf, 0);
    if (got == 0) {
      fail(ep, 3, "server closed connection", c->id, 0);
      return;
    }
    if (got < 0) {
      if (errno != EAGAIN && errno != EINTR) {
        fail(ep, 3, "recv", c->id, errno);
        return;
      }
    } else {
      uint64_t before = c->recv_bytes;
      int done =
          verify(c, rbuf, (size_t)got, now, ep->recording ? &ep->hist : NULL);
      if (done < 0) {
        fail(ep, 2, "echoed bytes differ", c->id, 0);
        return;
      }
      if (before == 0 && done > 0) ep->ready++;
      if (ep->recording && done) {
        ep->count += (uint64_t)done;
        note_done(ep, now);
      }
      if (done) {
        int r = pump_out(c, send_limit(c), now);
        if (r < 0) {
          fail(ep, 3, "send", c->id, -r);
          return;
        }
      }
    }
  } else if (e & (EPOLLERR | EPOLLHUP)) {
    fail(ep, 3, "connection error", c->id, 0);
    return;
  }
  if ((e & EPOLLOUT) && c->want_out) {
    int r = pump_out(c, send_limit(c), now);
    if (r < 0) fail(ep, 3, "send", c->id, -r);
  }
}

/* Handles the events that come within timeout_ms. */
static void poll_once(int timeout_ms) {
  struct epoll_event evs[1024];
  int n = epoll_wait(epfd, evs, 1024, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return;
    die_json(3, "epoll_wait", 0, errno);
  }
  uint64_t now = now_ns();
  for (int k = 0; k < n; k++) on_event(evs[k].data.ptr, evs[k].events, now);
}

static int drained(const endpoint_t *ep) {
  for (int i = 0; i < opt_conns; i++) {
    const conn_t *c = &ep->conns[i];
    if (c->state == 2 &&
        (c->recv_bytes != c->sent_bytes || c->sent_bytes % (uint64_t)size != 0))
      return 0;
  }
  return 1;
}

/* Lets ep start messages again, up to its depth on every connection. */
static void activate(endpoint_t *ep, uint64_t now) {
  ep->active = 1;
  for (int i = 0; i < opt_conns && !ep->error; i++) {
    conn_t *c = &ep->conns[i];
    if (c->state != 2) continue;
    int r = pump_out(c, send_limit(c), now);
    if (r < 0) fail(ep, 3, "send", c->id, -r);
  }
}

/* Stops ep's new messages and waits for those in flight; a server that
 * does not answer them within the setup timeout has stalled. */
static void pause_endpoint(endpoint_t *ep) {
  ep->active = 0;
  uint64_t deadline = now_ns() + (uint64_t)(opt_setup_timeout * 1e9);
  while (!ep->error && !drained(ep)) {
    if (now_ns() > deadline) {
      fail(ep, 3, "no answer", 0, 0);
      return;
    }
    poll_once(50);
  }
}

/* Opens ep's connections and waits until each has had one echo. */
static void setup(endpoint_t *ep) {
  uint64_t t_start = now_ns();
  uint64_t deadline = t_start + (uint64_t)(opt_setup_timeout * 1e9);
  ep->active = 1;
  for (int i = 0; i < opt_conns; i++) {
    conn_t *c = &ep->conns[i];
    c->id = (unsigned)i;
    c->ep = ep;
    int r = open_conn(c);
    if (r < 0) {
      fail(ep, 3, "connect", (unsigned)i, -r);
      return;
    }
  }
  while (!ep->error && ep->ready < opt_conns) {
    if (now_ns() > deadline) {
      fail(ep, 4, "setup timeout", 0, 0);
      return;
    }
    poll_once(50);
  }
  ep->setup_s = (double)(now_ns() - t_start) / 1e9;
}

/* Runs ep for ns; recording, counts the slice in its result. */
static void run_slice(endpoint_t *ep, uint64_t ns, int recording) {
  uint64_t start = now_ns();
  long long cpu0 = recording ? proc_cpu_ticks(ep->pid) : -1;
  ep->recording = recording;
  ep->last_done_ns = start;
  uint64_t count0 = ep->count;
  activate(ep, start);
  uint64_t end = start + ns;
  while (!ep->error) {
    uint64_t now = now_ns();
    if (now >= end) break;
    uint64_t left_ms = (end - now + 999999) / 1000000;
    poll_once(left_ms < 50 ? (int)left_ms : 50);
  }
  if (n_eps > 1) pause_endpoint(ep);
  uint64_t stop = now_ns();
  if (recording && !ep->error) {
    note_done(ep, stop);
    ep->measured_ns += stop - start;
    ep->slice_rates[ep->slices++] =
        (double)(ep->count - count0) / ((double)(stop - start) / 1e9);
    long long cpu1 = proc_cpu_ticks(ep->pid);
    if (cpu0 < 0 || cpu1 < 0 || ep->cpu_ticks < 0)
      ep->cpu_ticks = -1;
    else
      ep->cpu_ticks += cpu1 - cpu0;
  }
  ep->recording = 0;
}

static int run_echo(void) {
  int rounds = 1;
  uint64_t slice_ns = (uint64_t)(opt_duration * 1e9);
  if (opt_slice_ms > 0) {
    rounds = (int)(opt_duration * 1000 / opt_slice_ms + 0.5);
    if (rounds < 1) rounds = 1;
    slice_ns = (uint64_t)(opt_duration * 1e9) / (uint64_t)rounds;
  }
  for (int e = 0; e < n_eps; e++) {
    endpoint_t *ep = &eps[e];
    ep->conns = calloc((size_t)opt_conns, sizeof *ep->conns);
    ep->slice_rates = calloc((size_t)rounds, sizeof *ep->slice_rates);
    if (!ep->conns || !ep->slice_rates) return 1;
  }
  for (int e = 0; e < n_eps; e++) {
    endpoint_t *ep = &eps[e];
    setup(ep);
    if (!ep->error) run_slice(ep, (uint64_t)(opt_warmup * 1e9), 0);
  }
  for (int r = 0; r < rounds; r++)
    for (int e = 0; e < n_eps; e++)
      if (!eps[e].error) run_slice(&eps[e], slice_ns, 1);

  if (n_eps == 1) {
    printf("{");
    print_fields(&eps[0], 0, 0);
    printf("}\n");
    fflush(stdout);
    return eps[0].error ? eps[0].exit_code : 0;
  }
  printf("{\"ok\":true,\"slice_ms\":%.1f,\"endpoints\":[",
         (double)slice_ns / 1e6);
  for (int e = 0; e < n_eps; e++) {
    printf("%s{", e ? "," : "");
    print_fields(&eps[e], 0, 0);
    printf("}");
  }
  printf("]}\n");
  fflush(stdout);
  return 0;
}

/* ---------------------------------------------------------------- churn */

static int run_churn(void) {
  endpoint_t *ep = &eps[0];
  conn_t *conns = calloc((size_t)opt_conns, sizeof *conns);
  if (!conns) return 1;
  uint64_t t_start = now_ns();
  uint64_t t_meas = t_start + (uint64_t)(opt_warmup * 1e9);
  uint64_t t_end = t_meas + (uint64_t)(opt_duration * 1e9);
  uint64_t total = 0, total_at_meas = 0, errors = 0;
  uint64_t serial = 0;
  int measuring = 0;
  long long cpu0 = -1;
  struct epoll_event evs[1024];
  for (int i = 0; i < opt_conns; i++) {
    conns[i].id = (unsigned)(serial++ & 0xffff);
    conns[i].started_ns = t_start;
    conns[i].ep = ep;
    int r = open_conn(&conns[i]);
    if (r < 0) die_json(3, "connect", (unsigned)i, -r);
  }
  for (;;) {
    uint64_t now = now_ns();
    if (!measuring && now >= t_meas) {
      measuring = 1;
      total_at_meas = total;
      cpu0 = proc_cpu_ticks(ep->pid);
      t_meas = now;
      ep->last_done_ns = now;
    }
    if (measuring && now >= t_end) {
      note_done(ep, now);
      long long cpu1 = proc_cpu_ticks(ep->pid);
      ep->count = total - total_at_meas;
      ep->measured_ns = now - t_meas;
      ep->cpu_ticks = cpu0 < 0 || cpu1 < 0 ? -1 : cpu1 - cpu0;
      printf("{");
      print_fields(ep, 1, errors);
      printf("}\n");
      fflush(stdout);
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
          if (connect_error(c)) {
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
            int done = verify(c, rbuf, (size_t)got, now, NULL);
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
            hist_add(&ep->hist, now - c->started_ns);
            note_done(ep, now);
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
            "[--pid SERVER_PID] [--setup-timeout S]\n"
            "       loadgen --mode echo (--tcp PORT | --unix PATH)... "
            "--slice-ms MS [--pid SERVER_PID]... (other options as above)\n");
    return 64;
  }
  raise_nofile();
  size = opt_size;
  for (size_t i = 0; i < sizeof alphabet; i++)
    alphabet[i] = (char)('a' + i % 26);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return 1;
  if (!strcmp(opt_mode, "echo")) return run_echo();
  if (!strcmp(opt_mode, "churn")) return run_churn();
  fprintf(stderr, "loadgen: unknown mode %s\n", opt_mode);
  return 64;
}
