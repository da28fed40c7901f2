// Poller: the JavaScript face of a core Reactor. Every wait ends the same
// way, on Node's loop (see waiter.h): the ready [fd, events] pairs are in
// the Int32Array the wait was given, and the poller's callback gets
// (count or -errno, woken). The loop is kept alive by the waiter's handles
// only while a wait runs, so an idle poller never keeps the process alive.
#ifndef ASYNCORE_BINDING_POLLER_WRAP_H_
#define ASYNCORE_BINDING_POLLER_WRAP_H_

#include <napi.h>

#include <memory>

#include "../core/reactor.h"
#include "waiter.h"

namespace asyncore {

class PollerWrap : public Napi::ObjectWrap<PollerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);

  explicit PollerWrap(const Napi::CallbackInfo& info);
  ~PollerWrap() override;

 private:
  // Stops the wait, joins the worker, closes the fds. Idempotent.
  void Shutdown();
  // The waiter says the wait ended: collects the pairs into the wait's
  // Int32Array and delivers them.
  void OnWaitEnded();
  // The one delivery path: (count, woken) to the callback. from_loop: called
  // by libuv (MakeCallback) rather than from JavaScript (close()).
  void Deliver(Napi::Env env, int count, bool woken, bool from_loop);
  bool Busy() const;

  Napi::Value SetInterest(const Napi::CallbackInfo& info);
  Napi::Value Forget(const Napi::CallbackInfo& info);
  Napi::Value Ctl(const Napi::CallbackInfo& info);
  Napi::Value PollNow(const Napi::CallbackInfo& info);
  Napi::Value FindClosed(const Napi::CallbackInfo& info);
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value Wake(const Napi::CallbackInfo& info);
  Napi::Value SetReferenced(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Fileno(const Napi::CallbackInfo& info);
  Napi::Value Waiting(const Napi::CallbackInfo& info);

  napi_env env_;
  std::unique_ptr<Reactor> reactor_;
  Waiter* waiter_ = nullptr;
  Napi::FunctionReference callback_;  // Weak; this object's property holds it.
  // The Int32Array of the running wait; looked up again on delivery.
  Napi::ObjectReference wait_out_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
};

}  // namespace asyncore

#endif  // ASYNCORE_BINDING_POLLER_WRAP_H_
