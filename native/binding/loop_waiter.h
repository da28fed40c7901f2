// Waits for an epoll reactor on Node's own event loop instead of on the
// worker thread. An epoll fd is itself pollable: it is readable while any
// fd registered in it is ready. libuv watching it wakes Node's thread
// directly when an event arrives, so a wait costs one thread wake-up, as
// Python's does, instead of two (worker, then JavaScript). select and poll
// have no such fd and keep the worker thread.
#ifndef ASYNCORE_BINDING_LOOP_WAITER_H_
#define ASYNCORE_BINDING_LOOP_WAITER_H_

#include <uv.h>

#include <functional>

namespace asyncore {

class LoopWaiter {
 public:
  // on_ready() runs on the loop's thread when fd turns readable or the
  // timeout passes, whichever comes first; the wait is over by then.
  using ReadyCallback = std::function<void()>;

  // Makes the handles; they keep the loop alive only while a wait runs.
  static LoopWaiter* Create(uv_loop_t* loop, int fd, ReadyCallback on_ready);

  // Starts a wait; timeout_ms < 0 waits until fd is readable.
  int Start(double timeout_ms);
  void Stop();
  bool active() const { return active_; }

  // Stops the wait and frees the waiter once libuv has closed its handles.
  // The callback is never called after this.
  void Destroy();

 private:
  LoopWaiter(ReadyCallback on_ready) : on_ready_(std::move(on_ready)) {}
  void Finish();

  uv_poll_t poll_;
  uv_timer_t timer_;
  ReadyCallback on_ready_;
  bool active_ = false;
  int handles_open_ = 0;
};

}  // namespace asyncore

#endif  // ASYNCORE_BINDING_LOOP_WAITER_H_
