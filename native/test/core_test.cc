// Drives the N-API-free core directly, so that the sanitizers (ASan, UBSan,
// TSan) see the reactor's threads without Node around them. Built and run
// by scripts/test-native.sh; prints "N passed, M failed".
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../core/address.h"
#include "../core/deadline.h"
#include "../core/epoll_interest.h"
#include "../core/fd_ops.h"
#include "../core/reactor.h"
#include "../core/socket_ops.h"
#include "../core/wakeup.h"

namespace asyncore {
namespace {

int passed = 0;
int failed = 0;

#define EXPECT(condition)                                                      \
  do {                                                                         \
    if (!(condition)) {                                                        \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #condition); \
      ok = false;                                                              \
    }                                                                          \
  } while (0)

// Collects the on_done notifications of a reactor, as Node's thread would.
class DoneLatch {
 public:
  void Notify() {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
    cv_.notify_one();
  }
  bool WaitFor(int ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    bool ok = cv_.wait_for(lock, std::chrono::milliseconds(ms),
                           [this] { return done_; });
    done_ = false;
    return ok;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
};

const char* KindName(BackendKind kind) {
  switch (kind) {
    case BackendKind::kSelect:
      return "select";
    case BackendKind::kPoll:
      return "poll";
    case BackendKind::kEpoll:
      return "epoll";
  }
  return "?";
}

// One interest change, the same call for every kind.
int Watch(Reactor* reactor, int fd, int events) {
  int32_t fds[] = {fd};
  int32_t masks[] = {events};
  return reactor->Apply(fds, masks, nullptr, 1, /*replace=*/false);
}

bool TestTimeout(BackendKind kind) {
  bool ok = true;
  DoneLatch latch;
  Reactor reactor(kind, [&] { latch.Notify(); });
  EXPECT(reactor.Open() == 0);
  int fds[2];
  EXPECT(Pipe(fds) == 0);
  EXPECT(Watch(&reactor, fds[0], POLLIN) == 0);
  double start = MonotonicMs();
  EXPECT(reactor.StartWait(100, 8) == 0);
  EXPECT(latch.WaitFor(5000));
  double elapsed = MonotonicMs() - start;
  EXPECT(elapsed >= 99 && elapsed < 2000);
  EXPECT(reactor.result() == 0);
  EXPECT(!reactor.woken());
  reactor.FinishWait();
  reactor.Close();
  Close(fds[0]);
  Close(fds[1]);
  return ok;
}

bool TestReadyFromAnotherThread(BackendKind kind) {
  bool ok = true;
  DoneLatch latch;
  Reactor reactor(kind, [&] { latch.Notify(); });
  EXPECT(reactor.Open() == 0);
  int fds[2];
  EXPECT(Pipe(fds) == 0);
  EXPECT(Watch(&reactor, fds[0], POLLIN) == 0);
  EXPECT(reactor.StartWait(-1, 8) == 0);
  EXPECT(reactor.StartWait(-1, 8) == -EBUSY);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Write(fds[1], "x", 1);
  });
  EXPECT(latch.WaitFor(5000));
  writer.join();
  EXPECT(reactor.result() == 1 && reactor.pairs()[0] == fds[0]);
  EXPECT(reactor.pairs()[1] & POLLIN);
  reactor.FinishWait();
  // Readiness already known: found on this thread with no wait.
  int32_t out[16];
  EXPECT(reactor.PollNow(out, 8) == 1 && out[0] == fds[0]);
  reactor.Close();
  Close(fds[0]);
  Close(fds[1]);
  return ok;
}

bool TestWakeAndCloseDuringWait(BackendKind kind) {
  bool ok = true;
  DoneLatch latch;
  std::atomic<int> notifications{0};
  Reactor reactor(kind, [&] {
    notifications++;
    latch.Notify();
  });
  EXPECT(reactor.Open() == 0);
  EXPECT(reactor.StartWait(-1, 8) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  reactor.Wake();
  reactor.Wake();  // Coalesced with the first.
  EXPECT(latch.WaitFor(5000));
  EXPECT(reactor.woken());
  reactor.FinishWait();
  // A stale wake-up is dropped by PollNow.
  reactor.Wake();
  int32_t out[16];
  bool woken = false;
  EXPECT(reactor.PollNow(out, 8, &woken) == 0 && woken);
  EXPECT(reactor.PollNow(out, 8, &woken) == 0 && !woken);
  // Close() interrupts a wait that would last forever, and joins.
  EXPECT(reactor.StartWait(-1, 8) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  reactor.Close();
  EXPECT(notifications == 2);
  EXPECT(reactor.StartWait(0, 8) == -EBADF);
  return ok;
}

bool TestSignalsDoNotCutWaits(BackendKind kind) {
  bool ok = true;
  DoneLatch latch;
  Reactor reactor(kind, [&] { latch.Notify(); });
  EXPECT(reactor.Open() == 0);
  double start = MonotonicMs();
  EXPECT(reactor.StartWait(150, 8) == 0);
  // The worker blocks every signal, so SIGUSR2 (ignored here) lands on this
  // thread; the wait runs its full time regardless.
  for (int i = 0; i < 5; i++) {
    kill(getpid(), SIGUSR2);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT(latch.WaitFor(5000));
  EXPECT(MonotonicMs() - start >= 149);
  reactor.FinishWait();
  reactor.Close();
  return ok;
}

void OnSignal(int) {}

// A backend's wait interrupted by signals (EINTR) resumes with the time
// left, and so does WaitFd().
bool TestEintrResumesWithTimeLeft(BackendKind kind) {
  bool ok = true;
  struct sigaction action = {};
  action.sa_handler = OnSignal;  // No SA_RESTART: the wait sees EINTR.
  struct sigaction previous;
  sigaction(SIGUSR1, &action, &previous);
  auto backend = MakeBackend(kind);
  int fds[2];
  EXPECT(Pipe(fds) == 0);
  EXPECT(backend->Open() == 0 && backend->WatchWakeup(fds[0]) == 0);
  pthread_t waiter = pthread_self();
  std::atomic<bool> stop{false};
  std::thread signaller([&] {
    while (!stop) {
      pthread_kill(waiter, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
  });
  int32_t out[16];
  bool woken = true;
  double start = MonotonicMs();
  EXPECT(backend->Wait(150, out, 8, &woken) == 0);
  EXPECT(MonotonicMs() - start >= 149);
  EXPECT(!woken);
  start = MonotonicMs();
  EXPECT(WaitFd(fds[0], POLLIN, 100) == -ETIMEDOUT);
  EXPECT(MonotonicMs() - start >= 99);
  stop = true;
  signaller.join();
  sigaction(SIGUSR1, &previous, nullptr);
  backend->Close();
  Close(fds[0]);
  Close(fds[1]);
  return ok;
}

// RecvWithin() on a blocking socket with SO_RCVTIMEO: one recv() that
// reads what comes, -EAGAIN when nothing does; signals (EINTR) do not
// start the wait over.
bool TestRecvWithinIsBounded(BackendKind) {
  bool ok = true;
  struct sigaction action = {};
  action.sa_handler = OnSignal;  // No SA_RESTART: the recv() sees EINTR.
  struct sigaction previous;
  sigaction(SIGUSR1, &action, &previous);
  int fds[2];
  EXPECT(SocketPair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  struct timeval wait = {0, 100 * 1000};
  EXPECT(SetSockOpt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait) == 0);
  char buf[8];
  EXPECT(Send(fds[1], "ab", 2, 0, 0) == 2);
  EXPECT(RecvWithin(fds[0], buf, sizeof buf, 0, 100) == 2);
  double start = MonotonicMs();
  EXPECT(RecvWithin(fds[0], buf, sizeof buf, 0, 100) == -EAGAIN);
  EXPECT(MonotonicMs() - start >= 90);
  // Signals every 15 ms: each would start a 100 ms SO_RCVTIMEO over.
  pthread_t reader = pthread_self();
  std::atomic<bool> stop{false};
  std::thread signaller([&] {
    while (!stop) {
      pthread_kill(reader, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
  });
  start = MonotonicMs();
  EXPECT(RecvWithin(fds[0], buf, sizeof buf, 0, 100) == -EAGAIN);
  double elapsed = MonotonicMs() - start;
  EXPECT(elapsed >= 99 && elapsed < 1000);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    Send(fds[1], "c", 1, 0, 0);
  });
  EXPECT(RecvWithin(fds[0], buf, sizeof buf, 0, 100) == 1 && buf[0] == 'c');
  writer.join();
  stop = true;
  signaller.join();
  sigaction(SIGUSR1, &previous, nullptr);
  Close(fds[0]);
  Close(fds[1]);
  return ok;
}

// select(2) fails whole with EBADF for one closed fd; the backend reports
// that fd as POLLNVAL instead, as poll(2) does, and the other fds as usual.
bool TestClosedFdIsPollnval(BackendKind kind) {
  bool ok = true;
  auto backend = MakeBackend(kind);
  int wake[2], open_pipe[2], closed_pipe[2];
  EXPECT(Pipe(wake) == 0 && Pipe(open_pipe) == 0 && Pipe(closed_pipe) == 0);
  EXPECT(backend->Open() == 0 && backend->WatchWakeup(wake[0]) == 0);
  int32_t fds[] = {closed_pipe[0], open_pipe[1]};
  int32_t events[] = {POLLIN, POLLOUT};
  EXPECT(backend->Apply(fds, events, nullptr, 2, true) == 0);
  Close(closed_pipe[0]);
  int32_t out[16];
  bool woken = false;
  EXPECT(backend->Wait(0, out, 8, &woken) >= 1);
  EXPECT(out[0] == closed_pipe[0] && (out[1] & POLLNVAL));
  backend->Close();
  for (int fd :
       {wake[0], wake[1], open_pipe[0], open_pipe[1], closed_pipe[1]}) {
    Close(fd);
  }
  return ok;
}

// A reactor makes no fd of its own before its first wait: a number the
// caller just closed is still free when the caller's fds are first polled,
// so the closed fd is reported (CPython's test_select.test_errno).
bool TestNoFdBeforeFirstWait(BackendKind kind) {
  bool ok = true;
  int fds[2];
  EXPECT(Pipe(fds) == 0);
  Close(fds[0]);
  Reactor reactor(kind, [] {});
  EXPECT(reactor.Open() == 0);
  EXPECT(Watch(&reactor, fds[0], POLLIN) == 0);
  int32_t out[16];
  EXPECT(reactor.PollNow(out, 8) == 1);
  EXPECT(out[0] == fds[0] && out[1] == POLLNVAL);
  reactor.Close();
  Close(fds[1]);
  return ok;
}

// A Wake() made before the first wait, when there is no wake-up fd yet,
// ends that wait at once.
bool TestWakeBeforeFirstWait(BackendKind kind) {
  bool ok = true;
  DoneLatch latch;
  Reactor reactor(kind, [&] { latch.Notify(); });
  EXPECT(reactor.Open() == 0);
  reactor.Wake();
  EXPECT(reactor.StartWait(10000, 8) == 0);
  EXPECT(latch.WaitFor(5000));
  EXPECT(reactor.woken());
  reactor.FinishWait();
  reactor.Close();
  return ok;
}

// epoll forgets a registration when its fd is closed and never reports it;
// FindClosed() finds it, until it is deleted. select and poll find their
// own closed fds the same way.
bool TestFindClosed(BackendKind kind) {
  bool ok = true;
  DoneLatch latch;
  Reactor reactor(kind, [&] { latch.Notify(); });
  // The wake-up fd first, so that it cannot take the number closed below.
  EXPECT(reactor.Open() == 0 && reactor.PrepareWait() == 0);
  int open_pipe[2], closed_pipe[2];
  EXPECT(Pipe(open_pipe) == 0 && Pipe(closed_pipe) == 0);
  int32_t fds[] = {open_pipe[0], closed_pipe[0]};
  int32_t events[] = {POLLIN, POLLIN};
  EXPECT(reactor.Apply(fds, events, nullptr, 2, true) == 0);
  Close(closed_pipe[0]);
  int32_t out[16];
  EXPECT(reactor.FindClosed(out, 8) == 1);
  EXPECT(out[0] == closed_pipe[0] && out[1] == POLLNVAL);
  if (kind == BackendKind::kEpoll) {
    // The kernel dropped it: a wait times out without a word.
    EXPECT(reactor.StartWait(20, 8) == 0);
    EXPECT(latch.WaitFor(5000));
    EXPECT(reactor.result() == 0);
    reactor.FinishWait();
    // Forgetting it is quiet (the kernel's EBADF is what was wanted).
    EXPECT(reactor.Forget(closed_pipe[0]) == 0);
    EXPECT(reactor.FindClosed(out, 8) == 0);
  }
  reactor.Close();
  for (int fd : {open_pipe[0], open_pipe[1], closed_pipe[1]}) Close(fd);
  return ok;
}

bool TestSocketsAreCloexecAndNoSigpipe(BackendKind) {
  bool ok = true;
  int pair[2];
  EXPECT(SocketPair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
  EXPECT(GetInheritable(pair[0]) == 0);
  Close(pair[1]);
  // MSG_NOSIGNAL: EPIPE instead of a fatal SIGPIPE.
  EXPECT(Send(pair[0], "x", 1, 0, -1) == -EPIPE);
  Close(pair[0]);
  Sockaddr addr;
  EXPECT(ResolveAddress(AF_INET, SOCK_STREAM, "127.0.0.1", 9, 80, 0, 0,
                        &addr) == 0);
  AddressParts parts;
  EXPECT(DescribeAddress(reinterpret_cast<sockaddr*>(&addr.storage),
                         addr.length, &parts) == 0);
  EXPECT(parts.host == "127.0.0.1" && parts.port == 80);
  return ok;
}

// SCM_RIGHTS: the fds arrive as new close-on-exec fds of the same files; a
// message with more fds than asked for is MSG_CTRUNC (the kernel closes the
// rest); a dead peer is EPIPE, never SIGPIPE.
bool TestSendAndReceiveFds(BackendKind) {
  bool ok = true;
  int pair[2];
  int pipe_fds[2];
  EXPECT(SocketPair(AF_UNIX, SOCK_SEQPACKET, 0, pair) == 0);
  EXPECT(Pipe(pipe_fds) == 0);
  int sent_fds[] = {pipe_fds[1], pipe_fds[1]};
  EXPECT(SendFds(pair[0], "ab", 2, sent_fds, 1, 0, nullptr, -1) == 2);
  char buf[8];
  int received[4] = {-1, -1, -1, -1};
  size_t count = 0;
  int msg_flags = 0;
  Sockaddr from;
  EXPECT(RecvFds(pair[1], buf, sizeof(buf), received, 4, &count, &msg_flags, 0,
                 -1, &from) == 2);
  EXPECT(count == 1 && received[0] >= 0 && received[0] != pipe_fds[1]);
  EXPECT((msg_flags & MSG_CTRUNC) == 0);
  EXPECT(GetInheritable(received[0]) == 0);
  EXPECT(Write(received[0], "z", 1) == 1);
  EXPECT(Read(pipe_fds[0], buf, sizeof(buf)) == 1 && buf[0] == 'z');
  Close(received[0]);
  // Two fds to a receiver that takes one.
  EXPECT(SendFds(pair[0], "c", 1, sent_fds, 2, 0, nullptr, -1) == 1);
  count = 0;
  EXPECT(RecvFds(pair[1], buf, sizeof(buf), received, 1, &count, &msg_flags, 0,
                 -1, &from) == 1);
  EXPECT(count == 1 && (msg_flags & MSG_CTRUNC) != 0);
  Close(received[0]);
  // Nothing there on a non-blocking call.
  EXPECT(RecvFds(pair[1], buf, sizeof(buf), received, 1, &count, &msg_flags,
                 MSG_DONTWAIT, 0, &from) == -EAGAIN);
  int too_many[kMaxFds + 1] = {};
  EXPECT(SendFds(pair[0], "d", 1, too_many, kMaxFds + 1, 0, nullptr, -1) ==
         -EINVAL);
  Close(pair[1]);
  EXPECT(SendFds(pair[0], "e", 1, sent_fds, 1, 0, nullptr, -1) == -EPIPE);
  for (int fd : {pair[0], pipe_fds[0], pipe_fds[1]}) Close(fd);
  return ok;
}

// Signal() racing Drain() from another thread must never leave the
// coalescing flag set over an empty fd: every later Signal() would skip its
// write and no wait could be woken again (Close() included).
bool TestWakeupSurvivesRacingDrains(BackendKind) {
  bool ok = true;
  Wakeup wakeup;
  EXPECT(wakeup.Open() == 0);
  std::atomic<bool> stop{false};
  std::thread signaller([&] {
    while (!stop.load()) wakeup.Signal();
  });
  struct pollfd entry = {wakeup.fd(), POLLIN, 0};
  for (int i = 0; i < 200000; i++) {
    entry.revents = 0;
    if (poll(&entry, 1, 0) == 1) wakeup.Drain();
  }
  stop = true;
  signaller.join();
  // Drain as a waiter would, only what is there; then one more wake-up
  // must arrive.
  entry.revents = 0;
  if (poll(&entry, 1, 0) == 1) wakeup.Drain();
  wakeup.Signal();
  entry.revents = 0;
  EXPECT(poll(&entry, 1, 1000) == 1);
  return ok;
}

// EpollInterest against a fake kernel: what the registry tells epoll_ctl.
struct FakeKernel {
  std::map<int, uint32_t> registered;
  std::vector<std::string> calls;
  // fds the kernel refuses: EPERM (a regular file) or EBADF (not open).
  std::set<int> regular, closed;
  EpollInterest::Ctl ctl() {
    return [this](int op, int fd, uint32_t events) {
      const char* name = op == EPOLL_CTL_ADD   ? "ADD"
                         : op == EPOLL_CTL_DEL ? "DEL"
                                               : "MOD";
      calls.push_back(std::string(name) + " " + std::to_string(fd));
      if (closed.count(fd)) return -EBADF;
      if (regular.count(fd)) return -EPERM;
      if (op == EPOLL_CTL_ADD) {
        if (registered.count(fd)) return -EEXIST;
        registered[fd] = events;
        return 0;
      }
      if (!registered.count(fd)) return -ENOENT;
      if (op == EPOLL_CTL_DEL)
        registered.erase(fd);
      else
        registered[fd] = events;
      return 0;
    };
  }
  std::string Calls() {
    std::string text;
    for (const std::string& call : calls)
      text += (text.empty() ? "" : ", ") + call;
    calls.clear();
    return text;
  }
};

// A batch of (fd, events, flags) changes, as the parallel arrays Apply() takes.
struct Batch {
  std::vector<int32_t> fds, events, flags;
  Batch(std::initializer_list<std::array<int32_t, 3>> changes) {
    for (const auto& change : changes) Add(change[0], change[1], change[2]);
  }
  void Add(int32_t fd, int32_t mask, int32_t flag) {
    fds.push_back(fd);
    events.push_back(mask);
    flags.push_back(flag);
  }
  int ApplyTo(EpollInterest* interest, bool replace, size_t count = SIZE_MAX) {
    return interest->Apply(fds.data(), events.data(), flags.data(),
                           std::min(count, fds.size()), replace);
  }
};

bool TestInterestOnlyWhatChanged(BackendKind) {
  bool ok = true;
  FakeKernel kernel;
  EpollInterest interest(kernel.ctl());
  Batch all({});
  for (int fd = 10; fd < 110; fd++) all.Add(fd, POLLIN, 0);
  EXPECT(all.ApplyTo(&interest, true) == 0);
  EXPECT(kernel.calls.size() == 100);
  kernel.calls.clear();
  for (int pass = 0; pass < 10; pass++)
    EXPECT(all.ApplyTo(&interest, true) == 0);
  EXPECT(kernel.calls.empty());
  // One fd becomes writable: one MOD.
  all.events[5] = POLLIN | POLLOUT;
  EXPECT(all.ApplyTo(&interest, true) == 0);
  EXPECT(kernel.Calls() == "MOD 15");
  // One fd leaves the whole set: one DEL.
  all.fds.erase(all.fds.begin() + 7);
  all.events.erase(all.events.begin() + 7);
  all.flags.erase(all.flags.begin() + 7);
  EXPECT(all.ApplyTo(&interest, true) == 0);
  EXPECT(kernel.Calls() == "DEL 17");
  EXPECT(kernel.registered.count(17) == 0);
  EXPECT(interest.size() == 99);
  // A partial batch changes what it names and nothing else.
  Batch partial({{20, 0, 0}, {12, POLLOUT, 0}});
  EXPECT(partial.ApplyTo(&interest, false) == 0);
  EXPECT(kernel.Calls() == "MOD 12, DEL 20");
  EXPECT(interest.size() == 98);
  return ok;
}

bool TestInterestFreshAndForgotten(BackendKind) {
  bool ok = true;
  FakeKernel kernel;
  EpollInterest interest(kernel.ctl());
  Batch first({{5, POLLIN, 0}});
  EXPECT(first.ApplyTo(&interest, true) == 0);
  // The kernel dropped it when the fd was closed; another file has fd 5.
  kernel.registered.erase(5);
  kernel.calls.clear();
  Batch fresh({{5, POLLIN, kInterestFresh}});
  EXPECT(fresh.ApplyTo(&interest, true) == 0);
  EXPECT(kernel.Calls() == "ADD 5");
  // The registration outlived the socket (a dup() of it): ADD says EEXIST, MOD
  // follows.
  Batch again({{5, POLLOUT, kInterestFresh}});
  EXPECT(again.ApplyTo(&interest, true) == 0);
  EXPECT(kernel.Calls() == "ADD 5, MOD 5");
  EXPECT(kernel.registered[5] == POLLOUT);
  // A MOD the kernel no longer knows becomes an ADD; a DEL of it is quiet.
  kernel.registered.erase(5);
  Batch modify({{5, POLLIN | POLLOUT, 0}});
  EXPECT(modify.ApplyTo(&interest, true) == 0);
  EXPECT(kernel.Calls() == "MOD 5, ADD 5");
  kernel.registered.erase(5);
  EXPECT(interest.Apply(nullptr, nullptr, nullptr, 0, true) == 0);
  EXPECT(kernel.Calls() == "DEL 5");
  EXPECT(interest.size() == 0);
  // Forget() removes at once.
  EXPECT(first.ApplyTo(&interest, true) == 0);
  EXPECT(interest.Forget(5) == 0);
  EXPECT(kernel.Calls() == "ADD 5, DEL 5");
  EXPECT(interest.Forget(5) == 0 && kernel.calls.empty());
  return ok;
}

bool TestInterestMadeUpReadiness(BackendKind) {
  bool ok = true;
  FakeKernel kernel;
  kernel.regular.insert(7);
  kernel.closed.insert(8);
  EpollInterest interest(kernel.ctl());
  Batch batch(
      {{7, POLLIN | POLLOUT | POLLPRI, 0}, {8, POLLIN, 0}, {9, POLLIN, 0}});
  EXPECT(batch.ApplyTo(&interest, true) == 0);
  EXPECT(interest.synthetic() == 2);
  int32_t out[8] = {};
  size_t count = interest.AddSynthetic(out, 0, 4);
  EXPECT(count == 2);
  EXPECT(out[0] == 7 && out[1] == (POLLIN | POLLOUT));
  EXPECT(out[2] == 8 && out[3] == POLLNVAL);
  // Capacity is respected.
  EXPECT(interest.AddSynthetic(out, 3, 4) == 4);
  // Removing a made-up one asks the kernel nothing.
  kernel.calls.clear();
  Batch drop({{7, 0, 0}});
  EXPECT(drop.ApplyTo(&interest, false) == 0);
  EXPECT(kernel.calls.empty());
  EXPECT(interest.synthetic() == 1);
  // Any other refusal is the caller's error.
  EpollInterest failing([](int, int, uint32_t) { return -ENOMEM; });
  EXPECT(batch.ApplyTo(&failing, true) == -ENOMEM);
  EXPECT(failing.size() == 0);
  Batch bad({{-1, POLLIN, 0}});
  EXPECT(bad.ApplyTo(&interest, false) == -EBADF);
  return ok;
}

bool TestInterestChangesInFdOrder(BackendKind) {
  bool ok = true;
  FakeKernel kernel;
  EpollInterest interest(kernel.ctl());
  Batch batch({{30, POLLIN, 0}, {4, POLLIN, 0}, {17, POLLOUT, 0}});
  EXPECT(batch.ApplyTo(&interest, false) == 0);
  EXPECT(kernel.Calls() == "ADD 4, ADD 17, ADD 30");
  return ok;
}

// The production epoll wait: no worker thread; the caller's event loop
// (Node's, through libuv) watches the reactor's pollable fd, and once it is
// readable or the timeout passed, PollNow() writes the ready pairs straight
// into the caller's array. Here poll(2) stands in for libuv.
int LoopWait(Reactor* reactor, int timeout_ms, int32_t* out, size_t capacity,
             bool* woken) {
  struct pollfd entry = {reactor->fileno(), POLLIN, 0};
  int result;
  do {
    result = poll(&entry, 1, timeout_ms);
  } while (result < 0 && errno == EINTR);
  if (result < 0) return -errno;
  return reactor->PollNow(out, capacity, woken);
}

bool TestPollableFdWait(BackendKind kind) {
  bool ok = true;
  Reactor reactor(kind, [] {});
  EXPECT(reactor.Open() == 0);
  EXPECT(reactor.strategy() == WaitStrategy::kPollableFd);
  EXPECT(reactor.PrepareWait() == 0);
  int pipes[2][2];
  EXPECT(Pipe(pipes[0]) == 0 && Pipe(pipes[1]) == 0);
  int32_t fds[] = {pipes[0][0], pipes[1][0]};
  int32_t events[] = {POLLIN, POLLIN};
  EXPECT(reactor.Apply(fds, events, nullptr, 2, true) == 0);
  int32_t out[16];
  bool woken = true;
  // Nothing ready: the wait times out, and the poll after it finds nothing.
  double start = MonotonicMs();
  EXPECT(LoopWait(&reactor, 30, out, 8, &woken) == 0 && !woken);
  EXPECT(MonotonicMs() - start >= 29);
  // Ready from another thread: the pollable fd wakes the loop.
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Write(pipes[1][1], "x", 1);
  });
  EXPECT(LoopWait(&reactor, 5000, out, 8, &woken) == 1);
  writer.join();
  EXPECT(out[0] == pipes[1][0] && (out[1] & POLLIN) && !woken);
  // Woken from another thread while the loop waits.
  char byte;
  EXPECT(Read(pipes[1][0], &byte, 1) == 1);
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    reactor.Wake();
  });
  EXPECT(LoopWait(&reactor, 5000, out, 8, &woken) == 0 && woken);
  waker.join();
  // Partial changes: fd 0 is dropped, so its data goes unreported.
  int32_t drop_fd[] = {pipes[0][0]};
  int32_t drop_events[] = {0};
  EXPECT(reactor.Apply(drop_fd, drop_events, nullptr, 1, false) == 0);
  Write(pipes[0][1], "y", 1);
  EXPECT(LoopWait(&reactor, 20, out, 8, &woken) == 0);
  // A regular file: the kernel refuses it (EPERM); it is always ready for
  // what was asked, and the pollable fd never has to fire for it.
  char path[] = "/tmp/asyncore-core-test-XXXXXX";
  int file = mkstemp(path);
  EXPECT(file >= 0);
  unlink(path);
  int32_t file_fd[] = {file};
  int32_t file_events[] = {POLLIN | POLLOUT | POLLPRI};
  EXPECT(reactor.Apply(file_fd, file_events, nullptr, 1, false) == 0);
  EXPECT(reactor.PollNow(out, 8) == 1);
  EXPECT(out[0] == file && out[1] == (POLLIN | POLLOUT));
  EXPECT(reactor.Forget(file) == 0);
  EXPECT(reactor.PollNow(out, 8) == 0);
  Close(file);
  reactor.Close();
  for (auto& pipe : pipes) {
    Close(pipe[0]);
    Close(pipe[1]);
  }
  return ok;
}

// select and poll report in the order of the interest set: a replacing
// batch sets it, a partial one changes entries in place and puts new ones
// last.
bool TestInterestOrder(BackendKind kind) {
  bool ok = true;
  Reactor reactor(kind, [] {});
  EXPECT(reactor.Open() == 0);
  int pipes[3][2];
  for (auto& pipe : pipes) {
    EXPECT(Pipe(pipe) == 0);
    Write(pipe[1], "x", 1);
  }
  int32_t fds[] = {pipes[2][0], pipes[0][0]};
  int32_t events[] = {POLLIN, POLLIN};
  EXPECT(reactor.Apply(fds, events, nullptr, 2, true) == 0);
  int32_t out[16];
  EXPECT(reactor.PollNow(out, 8) == 2);
  EXPECT(out[0] == pipes[2][0] && out[2] == pipes[0][0]);
  int32_t more[] = {pipes[1][0], pipes[2][0]};
  int32_t more_events[] = {POLLIN, 0};
  EXPECT(reactor.Apply(more, more_events, nullptr, 2, false) == 0);
  EXPECT(reactor.PollNow(out, 8) == 2);
  EXPECT(out[0] == pipes[0][0] && out[2] == pipes[1][0]);
  // Capacity is respected.
  EXPECT(reactor.PollNow(out, 1) == 1);
  EXPECT(reactor.Forget(pipes[0][0]) == 0);
  EXPECT(reactor.PollNow(out, 8) == 1 && out[0] == pipes[1][0]);
  // select() cannot hold an fd at or above FD_SETSIZE.
  if (kind == BackendKind::kSelect) {
    int32_t high[] = {FD_SETSIZE};
    EXPECT(reactor.Apply(high, events, nullptr, 1, false) == -EINVAL);
  }
  reactor.Close();
  for (auto& pipe : pipes) {
    Close(pipe[0]);
    Close(pipe[1]);
  }
  return ok;
}

using Test = bool (*)(BackendKind);

void Run(const char* name, Test test, BackendKind kind) {
  bool ok = test(kind);
  printf("%s %s/%s\n", ok ? "ok" : "FAILED", name, KindName(kind));
  (ok ? passed : failed)++;
}

}  // namespace
}  // namespace asyncore

int main() {
  using namespace asyncore;
  signal(SIGUSR2, SIG_IGN);
  const BackendKind kinds[] = {BackendKind::kSelect, BackendKind::kPoll,
                               BackendKind::kEpoll};
  for (BackendKind kind : kinds) {
    Run("timeout", TestTimeout, kind);
    Run("ready_from_another_thread", TestReadyFromAnotherThread, kind);
    Run("wake_and_close_during_wait", TestWakeAndCloseDuringWait, kind);
    Run("signals_do_not_cut_waits", TestSignalsDoNotCutWaits, kind);
    Run("eintr_resumes_with_time_left", TestEintrResumesWithTimeLeft, kind);
    Run("wake_before_first_wait", TestWakeBeforeFirstWait, kind);
    Run("find_closed", TestFindClosed, kind);
  }
  Run("no_fd_before_first_wait", TestNoFdBeforeFirstWait, BackendKind::kSelect);
  Run("no_fd_before_first_wait", TestNoFdBeforeFirstWait, BackendKind::kPoll);
  Run("closed_fd_is_pollnval", TestClosedFdIsPollnval, BackendKind::kSelect);
  Run("closed_fd_is_pollnval", TestClosedFdIsPollnval, BackendKind::kPoll);
  Run("sockets_are_cloexec_and_no_sigpipe", TestSocketsAreCloexecAndNoSigpipe,
      BackendKind::kPoll);
  Run("recv_within_is_bounded", TestRecvWithinIsBounded, BackendKind::kPoll);
  Run("send_and_receive_fds", TestSendAndReceiveFds, BackendKind::kPoll);
  Run("wakeup_survives_racing_drains", TestWakeupSurvivesRacingDrains,
      BackendKind::kPoll);
  Run("interest_only_what_changed", TestInterestOnlyWhatChanged,
      BackendKind::kEpoll);
  Run("interest_fresh_and_forgotten", TestInterestFreshAndForgotten,
      BackendKind::kEpoll);
  Run("interest_made_up_readiness", TestInterestMadeUpReadiness,
      BackendKind::kEpoll);
  Run("interest_changes_in_fd_order", TestInterestChangesInFdOrder,
      BackendKind::kEpoll);
  Run("pollable_fd_wait", TestPollableFdWait, BackendKind::kEpoll);
  Run("interest_order", TestInterestOrder, BackendKind::kSelect);
  Run("interest_order", TestInterestOrder, BackendKind::kPoll);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
