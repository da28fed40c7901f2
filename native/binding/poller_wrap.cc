#include "poller_wrap.h"

#include <errno.h>

#include "args.h"

namespace asyncore {

namespace {

// Copies ready events into out as [fd, events] pairs; returns the count.
int WritePairs(const std::vector<ReadyEvent>& ready, int32_t* data,
               size_t length) {
  size_t count = std::min(ready.size(), length / 2);
  for (size_t i = 0; i < count; i++) {
    data[2 * i] = ready[i].fd;
    data[2 * i + 1] = ready[i].events;
  }
  return static_cast<int>(count);
}

}  // namespace

Napi::Function PollerWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "Poller",
      {
          InstanceMethod<&PollerWrap::SetInterest>("setInterest"),
          InstanceMethod<&PollerWrap::Ctl>("ctl"),
          InstanceMethod<&PollerWrap::PollNow>("pollNow"),
          InstanceMethod<&PollerWrap::FindClosed>("findClosed"),
          InstanceMethod<&PollerWrap::Wait>("wait"),
          InstanceMethod<&PollerWrap::Wake>("wake"),
          InstanceMethod<&PollerWrap::Close>("close"),
          InstanceMethod<&PollerWrap::Fileno>("fileno"),
          InstanceAccessor<&PollerWrap::Waiting>("waiting"),
      });
}

PollerWrap::PollerWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<PollerWrap>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  int32_t kind = 0;
  if (!ArgInt(info, 0, &kind)) return;
  if (kind < 0 || kind > static_cast<int32_t>(BackendKind::kEpoll)) {
    Fail(info, 0, "0 (select), 1 (poll) or 2 (epoll)");
    return;
  }
  if (!info[1].IsFunction()) {
    Fail(info, 1, "a function");
    return;
  }
  reactor_ = std::make_unique<Reactor>(static_cast<BackendKind>(kind), [this] {
    // napi_closing (environment teardown) is fine to ignore: nobody is
    // left to receive the result.
    wait_done_.NonBlockingCall();
  });
  int result = reactor_->Open();
  if (result < 0) {
    Napi::Error error = Napi::Error::New(env, "cannot create the reactor");
    error.Set("errno", Napi::Number::New(env, -result));
    error.ThrowAsJavaScriptException();
    return;
  }
  // The callback's closure usually holds whoever owns this poller (the
  // reactor of a map, and so the map). Held by this object's JavaScript
  // side, not by a strong reference from here (a GC root), the whole cycle
  // is collected once dropped. Neither does the thread-safe function hold
  // it: its calls find it through the context, on a poller that a running
  // wait keeps alive (Ref()).
  Napi::Object self = info.This().As<Napi::Object>();
  self.DefineProperty(Napi::PropertyDescriptor::Value(
      Napi::Symbol::New(env, "callback"), info[1], napi_default));
  callback_ = Napi::Weak(info[1].As<Napi::Function>());
  wait_done_context_ = new WaitDoneContext{this};
  wait_done_ = WaitDoneFunction::New(
      env, "asyncore.Poller", 0, 1, wait_done_context_,
      [](Napi::Env, void*, WaitDoneContext* context) { delete context; },
      static_cast<void*>(nullptr));
  // An idle poller must not keep the process alive; wait() refs it.
  wait_done_.Unref(env);
  if (kind == static_cast<int32_t>(BackendKind::kEpoll)) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) == napi_ok) {
      loop_waiter_ = LoopWaiter::Create(loop, reactor_->fileno(), [this] {
        DeliverLoopWait(/*closing=*/false);
      });
    }
    async_context_ =
        std::make_unique<Napi::AsyncContext>(env, "asyncore.Poller");
  }
  // Registered after the thread-safe function, so that it runs before
  // Node's own teardown of that function (cleanup hooks run last in, first
  // out): the worker is joined while its function is still valid.
  napi_add_env_cleanup_hook(env, &PollerWrap::OnEnvironmentTeardown, this);
  live_ = true;
}

PollerWrap::~PollerWrap() {
  if (live_) napi_remove_env_cleanup_hook(env_, &OnEnvironmentTeardown, this);
  Shutdown();
}

void PollerWrap::OnEnvironmentTeardown(void* self) {
  auto* poller = static_cast<PollerWrap*>(self);
  poller->Shutdown();
}

bool PollerWrap::Busy() const {
  return reactor_->waiting() ||
         (loop_waiter_ != nullptr && loop_waiter_->active());
}

void PollerWrap::Shutdown() {
  if (loop_waiter_ != nullptr) {
    loop_waiter_->Destroy();
    loop_waiter_ = nullptr;
  }
  if (reactor_) reactor_->Close();
  if (live_) {
    live_ = false;
    // A result still queued in the function finds no poller and is dropped.
    wait_done_context_->poller = nullptr;
    wait_done_context_ = nullptr;
    wait_done_.Release();
  }
}

Napi::Value PollerWrap::SetInterest(const Napi::CallbackInfo& info) {
  int32_t *fds = nullptr, *events = nullptr;
  size_t fds_length = 0, events_length = 0;
  int32_t count = 0;
  if (!ArgInt32Array(info, 0, &fds, &fds_length) ||
      !ArgInt32Array(info, 1, &events, &events_length) ||
      !ArgInt(info, 2, &count)) {
    return info.Env().Undefined();
  }
  if (count < 0 || static_cast<size_t>(count) > fds_length ||
      static_cast<size_t>(count) > events_length) {
    return Napi::Number::New(info.Env(), -EINVAL);
  }
  int result;
  if (reactor_->closed()) {
    result = -EBADF;
  } else if (Busy()) {
    result = -EBUSY;
  } else {
    result = reactor_->backend().SetInterest(fds, events,
                                             static_cast<size_t>(count));
  }
  return Napi::Number::New(info.Env(), result);
}

Napi::Value PollerWrap::Ctl(const Napi::CallbackInfo& info) {
  int32_t op = 0, fd = 0, events = 0;
  if (!ArgInt(info, 0, &op) || !ArgInt(info, 1, &fd) ||
      !ArgInt(info, 2, &events)) {
    return info.Env().Undefined();
  }
  int result = reactor_->closed() ? -EBADF
                                  : reactor_->backend().Control(
                                        op, fd, static_cast<uint32_t>(events));
  return Napi::Number::New(info.Env(), result);
}

Napi::Value PollerWrap::PollNow(const Napi::CallbackInfo& info) {
  int32_t* out = nullptr;
  size_t out_length = 0;
  if (!ArgInt32Array(info, 0, &out, &out_length)) {
    return info.Env().Undefined();
  }
  int result = Busy() ? -EBUSY : reactor_->PollNow(out_length / 2, &now_ready_);
  if (result == 0) result = WritePairs(now_ready_, out, out_length);
  return Napi::Number::New(info.Env(), result);
}

Napi::Value PollerWrap::FindClosed(const Napi::CallbackInfo& info) {
  int32_t* out = nullptr;
  size_t out_length = 0;
  if (!ArgInt32Array(info, 0, &out, &out_length)) {
    return info.Env().Undefined();
  }
  int result = reactor_->closed() ? -EBADF : Busy() ? -EBUSY : 0;
  if (result == 0) {
    now_ready_.clear();
    reactor_->backend().FindClosed(out_length / 2, &now_ready_);
    result = WritePairs(now_ready_, out, out_length);
  }
  return Napi::Number::New(info.Env(), result);
}

Napi::Value PollerWrap::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double timeout_ms = 0;
  int32_t* out = nullptr;
  size_t out_length = 0;
  if (!ArgDouble(info, 0, &timeout_ms) ||
      !ArgInt32Array(info, 1, &out, &out_length)) {
    return env.Undefined();
  }
  if (loop_waiter_ != nullptr) {
    if (Busy()) return Napi::Number::New(env, -EBUSY);
    // libuv's error codes are -errno on Unix.
    int result = reactor_->PrepareWait();
    if (result == 0) result = loop_waiter_->Start(timeout_ms);
    if (result == 0) {
      // The started handles keep the process alive; this keeps the object
      // and out alive until the result is delivered.
      wait_out_ = Napi::Persistent(info[1].As<Napi::Object>());
      Ref();
    }
    return Napi::Number::New(env, result);
  }
  int result = reactor_->StartWait(timeout_ms, out_length / 2);
  if (result == 0) {
    // Until the result is delivered: keep this object and out alive, and
    // keep the process alive for the wait.
    wait_out_ = Napi::Persistent(info[1].As<Napi::Object>());
    Ref();
    wait_done_.Ref(env);
  }
  return Napi::Number::New(env, result);
}

void PollerWrap::DeliverWait(Napi::Env env) {
  if (!reactor_->waiting()) return;
  Napi::Function callback = callback_.Value();
  int result = reactor_->closed() ? 0 : reactor_->result();
  int32_t* out = nullptr;
  size_t out_length = 0;
  if (result == 0 && !reactor_->closed() && !wait_out_.IsEmpty() &&
      Int32ArrayData(env, wait_out_.Value(), &out, &out_length)) {
    result = WritePairs(reactor_->ready(), out, out_length);
  }
  // A wait cut short by close() may not have run at all: report it woken.
  bool woken = reactor_->woken() || reactor_->closed();
  reactor_->FinishWait();
  wait_out_.Reset();
  if (live_) wait_done_.Unref(env);
  Unref();
  // Nothing of this object is touched after the call: the callback may
  // close it, or drop the last reference to it.
  callback.Call(
      {Napi::Number::New(env, result), Napi::Boolean::New(env, woken)});
}

void PollerWrap::DeliverLoopWait(bool closing) {
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  int result = 0;
  bool woken = closing;
  if (!closing) {
    // wait() checked the type; a failure here leaves no room for events.
    int32_t* out = nullptr;
    size_t out_length = 0;
    Int32ArrayData(env, wait_out_.Value(), &out, &out_length);
    result = reactor_->PollNow(out_length / 2, &now_ready_, &woken);
    if (result == 0) result = WritePairs(now_ready_, out, out_length);
  }
  wait_out_.Reset();
  Unref();
  napi_value args[] = {Napi::Number::New(env, result),
                       Napi::Boolean::New(env, woken)};
  if (closing) {
    // Inside close(), called from JavaScript.
    callback_.Call({args[0], args[1]});
    return;
  }
  // Called from libuv, not from JavaScript: MakeCallback runs the promise
  // jobs the callback queues, and an exception it throws is uncaught.
  callback_.MakeCallback(env.Global(), {args[0], args[1]}, *async_context_);
  if (env.IsExceptionPending()) {
    napi_fatal_exception(env, env.GetAndClearPendingException().Value());
  }
}

void DeliverWaitDone(Napi::Env env, Napi::Function, WaitDoneContext* context,
                     void*) {
  // env is null when the environment is being torn down.
  if (env == nullptr || context->poller == nullptr) return;
  context->poller->DeliverWait(env);
}

Napi::Value PollerWrap::Wake(const Napi::CallbackInfo& info) {
  if (!reactor_->closed()) reactor_->Wake();
  return info.Env().Undefined();
}

Napi::Value PollerWrap::Close(const Napi::CallbackInfo& info) {
  if (live_) napi_remove_env_cleanup_hook(env_, &OnEnvironmentTeardown, this);
  bool loop_wait_pending = loop_waiter_ != nullptr && loop_waiter_->active();
  Shutdown();
  if (loop_wait_pending) DeliverLoopWait(/*closing=*/true);
  // A wait still running ends with the close: its callback is called now,
  // as woken, since the thread-safe function no longer reaches this object.
  if (reactor_ && reactor_->waiting()) DeliverWait(info.Env());
  return info.Env().Undefined();
}

Napi::Value PollerWrap::Fileno(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(),
                           reactor_->closed() ? -1 : reactor_->fileno());
}

Napi::Value PollerWrap::Waiting(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Busy());
}

}  // namespace asyncore
