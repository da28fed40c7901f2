// How a poller's waits end on Node's own loop, whatever the reactor's wait
// strategy: a worker-thread wait (select, poll) ends with Notify() from the
// worker (a uv_async_t); a pollable-fd wait (epoll) ends when libuv finds
// the fd readable (a uv_poll_t) or the timeout passes (a uv_timer_t).
// Either way on_ready runs on the loop's thread, and these handles are what
// keeps the process alive, only while a wait runs.
#ifndef ASYNCORE_BINDING_WAITER_H_
#define ASYNCORE_BINDING_WAITER_H_

#include <uv.h>

#include <functional>

namespace asyncore {

class Waiter {
 public:
  using ReadyCallback = std::function<void()>;

  // pollable_fd: the fd of a pollable-fd reactor, -1 for a worker one.
  // nullptr when libuv refuses the handles.
  static Waiter* Create(uv_loop_t* loop, int pollable_fd,
                        ReadyCallback on_ready);

  // A worker-thread wait started: the loop stays alive until Notify().
  void StartWorkerWait();
  // Thread-safe: the worker's wait ended.
  void Notify() { uv_async_send(&async_); }

  // A pollable-fd wait: ends when the fd turns readable or after
  // timeout_ms (< 0: no limit). 0 or a libuv error (-errno).
  int StartFdWait(double timeout_ms);

  bool active() const { return active_; }
  // Ends the wait without calling on_ready.
  void Stop();

  // Stops the wait and frees the waiter once libuv has closed its handles.
  // on_ready is never called after this.
  void Destroy();

 private:
  explicit Waiter(ReadyCallback on_ready) : on_ready_(std::move(on_ready)) {}
  void Finish();

  uv_async_t async_;
  uv_poll_t poll_;
  uv_timer_t timer_;
  bool has_poll_ = false;
  ReadyCallback on_ready_;
  bool active_ = false;
  bool worker_wait_ = false;
  int handles_open_ = 0;
};

}  // namespace asyncore

#endif  // ASYNCORE_BINDING_WAITER_H_
