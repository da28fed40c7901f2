// A reactor: one backend, its interest set, a wake-up fd, and the way its
// waits run, so that the thread that asked (Node's JavaScript thread) is
// never blocked. N-API free, so it can be driven by a plain C++ test under
// the sanitizers.
//
// The wait strategy is the reactor's: select and poll block in the kernel
// on a worker thread, which calls on_done when a wait ends; epoll has a
// pollable fd (the epoll fd, readable while anything in it is ready or a
// wake-up is pending), which the caller's own event loop watches, calling
// PollNow() once it is readable or the wait's timeout has passed.
#ifndef ASYNCORE_CORE_REACTOR_H_
#define ASYNCORE_CORE_REACTOR_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "backend.h"
#include "wakeup.h"

namespace asyncore {

enum class WaitStrategy { kWorkerThread, kPollableFd };

class Reactor {
 public:
  // Called on the worker thread when a wait started by StartWait() ends.
  // The results (result(), woken(), pairs()) may be read from then until
  // the next StartWait().
  using DoneCallback = std::function<void()>;

  Reactor(BackendKind kind, DoneCallback on_done);
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Makes the backend (epoll's fd); 0 or -errno. The wake-up fd comes with
  // the first wait (see Backend::WatchWakeup()).
  int Open();
  // Stops and joins the worker, then closes the fds. Idempotent.
  void Close();
  bool closed() const { return closed_; }

  BackendKind kind() const { return kind_; }
  WaitStrategy strategy() const {
    return kind_ == BackendKind::kEpoll ? WaitStrategy::kPollableFd
                                        : WaitStrategy::kWorkerThread;
  }
  // epoll: the epoll fd; -1 for the others.
  int fileno() const { return backend_ ? backend_->fileno() : -1; }

  // Backend::Apply() and Forget(): the interest changes of a pass, in one
  // batch; a channel that left its fd. -EBUSY while a worker wait runs,
  // -EBADF once closed.
  int Apply(const int32_t* fds, const int32_t* events, const int32_t* flags,
            size_t count, bool replace);
  int Forget(int32_t fd);

  // Python's select.epoll objects: epoll_ctl() as called. -EINVAL for the
  // other kinds.
  int Control(int op, int fd, uint32_t events);

  // A zero-timeout wait on the calling thread, with the [fd, events] pairs
  // written straight into out (capacity pairs): their number, or -errno.
  // Never while a worker wait runs. *woken, when given, tells whether a
  // wake-up was pending (and drained). The pollable-fd strategy ends every
  // wait with this call.
  int PollNow(int32_t* out, size_t capacity, bool* woken = nullptr);

  // [fd, POLLNVAL] pairs for watched fds that are no longer open
  // (Backend::FindClosed()): their number, or -errno.
  int FindClosed(int32_t* out, size_t capacity);

  // Makes the wake-up fd and has the backend watch it, once. Every wait
  // calls it first (StartWait() does). 0 or -errno.
  int PrepareWait();

  // The worker-thread strategy: starts a wait on the worker thread (started
  // on first use), with room for capacity pairs. -EBUSY when one is
  // running.
  int StartWait(double timeout_ms, size_t capacity);
  bool waiting() const { return waiting_; }

  // Interrupts a running wait; safe from any thread.
  void Wake() { wakeup_.Signal(); }

  // Results of the last worker wait, for the thread that got on_done: the
  // number of pairs (or -errno), whether a wake-up ended it, the pairs.
  int result() const { return result_; }
  bool woken() const { return woken_; }
  const int32_t* pairs() const { return results_.data(); }
  // Marks the results consumed, so that a new wait may start.
  void FinishWait() { waiting_ = false; }

 private:
  void RunWorker();

  BackendKind kind_;
  DoneCallback on_done_;
  std::unique_ptr<Backend> backend_;
  RawEpoll* raw_epoll_ = nullptr;
  Wakeup wakeup_;
  bool wakeup_watched_ = false;
  bool closed_ = false;
  bool waiting_ = false;

  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable job_ready_;
  bool job_pending_ = false;  // Guarded by mutex_.
  bool stopping_ = false;     // Guarded by mutex_.
  double job_timeout_ms_ = 0;

  int result_ = 0;
  bool woken_ = false;
  std::vector<int32_t> results_;
};

}  // namespace asyncore

#endif  // ASYNCORE_CORE_REACTOR_H_
