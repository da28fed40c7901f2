// Poller: the JavaScript face of a core Reactor. Results of a wait reach
// JavaScript through one ThreadSafeFunction call per wait; the event loop
// is ref'ed only while a wait runs, so an idle poller never keeps the
// process alive.
#ifndef ASYNCORE_BINDING_POLLER_WRAP_H_
#define ASYNCORE_BINDING_POLLER_WRAP_H_

#include <napi.h>

#include <memory>
#include <vector>

#include "../core/reactor.h"
#include "loop_waiter.h"

namespace asyncore {

class PollerWrap;

// The thread-safe function's context. It outlives the PollerWrap when a
// result is still queued after close() (or after the object is collected),
// so it holds a pointer that is cleared then, and is freed by the function's
// finalizer.
struct WaitDoneContext {
  PollerWrap* poller;
};

void DeliverWaitDone(Napi::Env env, Napi::Function callback,
                     WaitDoneContext* context, void* unused);
using WaitDoneFunction =
    Napi::TypedThreadSafeFunction<WaitDoneContext, void, DeliverWaitDone>;

class PollerWrap : public Napi::ObjectWrap<PollerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);

  explicit PollerWrap(const Napi::CallbackInfo& info);
  ~PollerWrap() override;

  // Delivers a finished worker wait to JavaScript, on the JavaScript thread.
  void DeliverWait(Napi::Env env);

 private:
  // Joins the worker and releases the thread-safe function. Idempotent.
  void Shutdown();
  static void OnEnvironmentTeardown(void* self);
  // A wait on Node's loop (epoll) ended: reads what is ready and calls back.
  void DeliverLoopWait(bool closing);
  bool Busy() const;

  Napi::Value SetInterest(const Napi::CallbackInfo& info);
  Napi::Value Ctl(const Napi::CallbackInfo& info);
  Napi::Value PollNow(const Napi::CallbackInfo& info);
  Napi::Value FindClosed(const Napi::CallbackInfo& info);
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value Wake(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Fileno(const Napi::CallbackInfo& info);
  Napi::Value Waiting(const Napi::CallbackInfo& info);

  napi_env env_;
  std::unique_ptr<Reactor> reactor_;
  WaitDoneFunction wait_done_;
  WaitDoneContext* wait_done_context_ = nullptr;
  Napi::FunctionReference callback_;  // Weak; this object's property holds it.
  bool live_ = false;  // The thread-safe function and cleanup hook exist.
  // The Int32Array a running wait writes to; its elements are looked up
  // again on delivery.
  Napi::ObjectReference wait_out_;
  // epoll only: waits run on Node's loop (see loop_waiter.h).
  LoopWaiter* loop_waiter_ = nullptr;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  std::vector<ReadyEvent> now_ready_;
};

}  // namespace asyncore

#endif  // ASYNCORE_BINDING_POLLER_WRAP_H_
