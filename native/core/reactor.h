// A reactor: one backend, one wake-up fd and one worker thread that runs
// the backend's waits so that the thread that asked (Node's JavaScript
// thread) is never blocked. N-API free, so it can be driven by a plain C++
// test under the sanitizers.
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

class Reactor {
 public:
  // Called on the worker thread when a wait started by StartWait() ends.
  // The results (result(), woken(), ready()) may be read from then until
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

  Backend& backend() { return *backend_; }
  int fileno() const { return backend_ ? backend_->fileno() : -1; }

  // A zero-timeout wait on the calling thread; never while a wait runs.
  // *woken, when given, tells whether a wake-up was pending (and drained).
  int PollNow(size_t max_events, std::vector<ReadyEvent>* ready,
              bool* woken = nullptr);

  // Makes the wake-up fd and has the backend watch it, once; a wait that
  // does not run through StartWait() (epoll on Node's loop) calls it first.
  // 0 or -errno.
  int PrepareWait();

  // Starts a wait on the worker thread (started on first use). -EBUSY when
  // one is running.
  int StartWait(double timeout_ms, size_t max_events);
  bool waiting() const { return waiting_; }

  // Interrupts a running wait; safe from any thread.
  void Wake() { wakeup_.Signal(); }

  // Results of the last wait, for the thread that got on_done.
  int result() const { return result_; }
  bool woken() const { return woken_; }
  const std::vector<ReadyEvent>& ready() const { return ready_; }
  // Marks the results consumed, so that a new wait may start.
  void FinishWait() { waiting_ = false; }

 private:
  void RunWorker();

  BackendKind kind_;
  DoneCallback on_done_;
  std::unique_ptr<Backend> backend_;
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
  size_t job_max_events_ = 0;

  int result_ = 0;
  bool woken_ = false;
  std::vector<ReadyEvent> ready_;
};

}  // namespace asyncore

#endif  // ASYNCORE_CORE_REACTOR_H_
