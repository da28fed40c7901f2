// How a poller's waits end on Node's own loop, whatever the reactor's wait
// strategy: a worker-thread wait (select, poll) ends with Notify() from the
// worker (a uv_async_t); a pollable-fd wait (epoll) ends when libuv finds
// the fd readable (a uv_poll_t) or the timeout passes (a uv_timer_t).
// Either way on_ready runs on the loop's thread, and these handles are what
// keeps the process alive, only while a wait runs (between waits the
// uv_poll_t stays started, unreferenced, until the fd turns ready unwaited).
//
// The handles' close callbacks are code of this addon, which Node unloads
// with the environment of a worker thread: a waiter holds an asynchronous
// cleanup hook until its handles are closed, so that Node runs the loop
// until then, and tears nothing down under a close still pending.
#ifndef ASYNCORE_BINDING_WAITER_H_
#define ASYNCORE_BINDING_WAITER_H_

#include <node_api.h>
#include <uv.h>

#include <functional>

namespace asyncore {

class Waiter {
 public:
  using ReadyCallback = std::function<void()>;

  // pollable_fd: the fd of a pollable-fd reactor, -1 for a worker one.
  // on_teardown runs when the environment is torn down while the waiter is
  // in use; its owner must stop every thread that may Notify() and forget
  // the waiter, which then destroys itself. nullptr when libuv refuses the
  // handles.
  static Waiter* Create(napi_env env, uv_loop_t* loop, int pollable_fd,
                        ReadyCallback on_ready,
                        std::function<void()> on_teardown);

  // A worker-thread wait started: the loop stays alive until Notify().
  void StartWorkerWait();
  // Thread-safe: the worker's wait ended.
  void Notify() { uv_async_send(&async_); }

  // A pollable-fd wait: ends when the fd turns readable or after
  // timeout_ms (< 0: no limit). 0 or a libuv error (-errno).
  int StartFdWait(double timeout_ms);

  bool active() const { return active_; }
  // Whether a wait keeps the loop alive (true by default): applies to the
  // wait running now and to those after it.
  void SetReferenced(bool referenced);
  // Ends the wait without calling on_ready.
  void Stop();
  // Stops watching the pollable fd, which Stop() leaves watched (unreferenced)
  // for the next wait: called before that fd is closed.
  void StopPoll();

  // Stops the wait and frees the waiter once libuv has closed its handles.
  // on_ready and on_teardown are never called after this.
  void Destroy();

 private:
  explicit Waiter(ReadyCallback on_ready) : on_ready_(std::move(on_ready)) {}
  void Finish();
  // Refs or unrefs the running wait's handles as referenced_ says.
  void ApplyReferenced();
  void Closed();
  static void OnTeardown(napi_async_cleanup_hook_handle handle, void* self);

  uv_async_t async_;
  uv_poll_t poll_;
  uv_timer_t timer_;
  bool has_poll_ = false;
  bool poll_started_ = false;
  ReadyCallback on_ready_;
  std::function<void()> on_teardown_;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  bool destroyed_ = false;
  bool active_ = false;
  bool worker_wait_ = false;
  bool referenced_ = true;
  int handles_open_ = 0;
};

}  // namespace asyncore

#endif  // ASYNCORE_BINDING_WAITER_H_
