// Drives the N-API-free core directly, so that the sanitizers (ASan, UBSan,
// TSan) see the reactor's threads without Node around them. Built and run
// by scripts/test-native.sh; prints "N passed, M failed".
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "../core/address.h"
#include "../core/deadline.h"
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

void Watch(Reactor* reactor, BackendKind kind, int fd, int events) {
  if (kind == BackendKind::kEpoll) {
    reactor->backend().Control(1 /* EPOLL_CTL_ADD */, fd,
                               events == POLLIN ? 1 : 4);
  } else {
    int32_t fds[] = {fd};
    int32_t masks[] = {events};
    reactor->backend().SetInterest(fds, masks, 1);
  }
}

bool TestTimeout(BackendKind kind) {
  bool ok = true;
  DoneLatch latch;
  Reactor reactor(kind, [&] { latch.Notify(); });
  EXPECT(reactor.Open() == 0);
  int fds[2];
  EXPECT(Pipe(fds) == 0);
  Watch(&reactor, kind, fds[0], POLLIN);
  double start = MonotonicMs();
  EXPECT(reactor.StartWait(100, 8) == 0);
  EXPECT(latch.WaitFor(5000));
  double elapsed = MonotonicMs() - start;
  EXPECT(elapsed >= 99 && elapsed < 2000);
  EXPECT(reactor.result() == 0 && reactor.ready().empty());
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
  Watch(&reactor, kind, fds[0], POLLIN);
  EXPECT(reactor.StartWait(-1, 8) == 0);
  EXPECT(reactor.StartWait(-1, 8) == -EBUSY);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Write(fds[1], "x", 1);
  });
  EXPECT(latch.WaitFor(5000));
  writer.join();
  EXPECT(reactor.result() == 0);
  EXPECT(reactor.ready().size() == 1 && reactor.ready()[0].fd == fds[0]);
  reactor.FinishWait();
  // Readiness already known: found on this thread with no wait.
  std::vector<ReadyEvent> ready;
  EXPECT(reactor.PollNow(8, &ready) == 0 && ready.size() == 1);
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
  std::vector<ReadyEvent> ready;
  EXPECT(reactor.PollNow(8, &ready) == 0 && ready.empty());
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
  std::vector<ReadyEvent> ready;
  bool woken = true;
  double start = MonotonicMs();
  EXPECT(backend->Wait(150, 8, &ready, &woken) == 0);
  EXPECT(MonotonicMs() - start >= 149);
  EXPECT(!woken && ready.empty());
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
  EXPECT(backend->SetInterest(fds, events, 2) == 0);
  Close(closed_pipe[0]);
  std::vector<ReadyEvent> ready;
  bool woken = false;
  EXPECT(backend->Wait(0, 8, &ready, &woken) == 0);
  EXPECT(ready.size() >= 1 && ready[0].fd == closed_pipe[0] &&
         (ready[0].events & POLLNVAL));
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
  Watch(&reactor, kind, fds[0], POLLIN);
  std::vector<ReadyEvent> ready;
  EXPECT(reactor.PollNow(8, &ready) == 0);
  EXPECT(ready.size() == 1 && ready[0].fd == fds[0] &&
         ready[0].events == POLLNVAL);
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
  if (kind == BackendKind::kEpoll) {
    EXPECT(reactor.backend().Control(1, open_pipe[0], POLLIN) == 0);
    EXPECT(reactor.backend().Control(1, closed_pipe[0], POLLIN) == 0);
  } else {
    int32_t fds[] = {open_pipe[0], closed_pipe[0]};
    int32_t events[] = {POLLIN, POLLIN};
    EXPECT(reactor.backend().SetInterest(fds, events, 2) == 0);
  }
  Close(closed_pipe[0]);
  std::vector<ReadyEvent> ready;
  EXPECT(reactor.backend().FindClosed(8, &ready) == 1);
  EXPECT(ready.size() == 1 && ready[0].fd == closed_pipe[0] &&
         ready[0].events == POLLNVAL);
  if (kind == BackendKind::kEpoll) {
    // The kernel dropped it: a wait times out without a word.
    EXPECT(reactor.StartWait(20, 8) == 0);
    EXPECT(latch.WaitFor(5000));
    EXPECT(reactor.result() == 0 && reactor.ready().empty());
    reactor.FinishWait();
    EXPECT(reactor.backend().Control(2, closed_pipe[0], 0) == -EBADF);
    ready.clear();
    EXPECT(reactor.backend().FindClosed(8, &ready) == 0 && ready.empty());
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
  Run("send_and_receive_fds", TestSendAndReceiveFds, BackendKind::kPoll);
  Run("wakeup_survives_racing_drains", TestWakeupSurvivesRacingDrains,
      BackendKind::kPoll);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
