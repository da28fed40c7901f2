#include "poller_wrap.h"

#include <errno.h>
#include <string.h>

#include <algorithm>

#include "args.h"

namespace asyncore {

Napi::Function PollerWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "Poller",
      {
          InstanceMethod<&PollerWrap::SetInterest>("setInterest"),
          InstanceMethod<&PollerWrap::Forget>("forget"),
          InstanceMethod<&PollerWrap::Ctl>("ctl"),
          InstanceMethod<&PollerWrap::PollNow>("pollNow"),
          InstanceMethod<&PollerWrap::FindClosed>("findClosed"),
          InstanceMethod<&PollerWrap::Wait>("wait"),
          InstanceMethod<&PollerWrap::Wake>("wake"),
          InstanceMethod<&PollerWrap::SetReferenced>("setReferenced"),
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
  // Runs on the worker thread: only hands over to Node's loop.
  reactor_ = std::make_unique<Reactor>(static_cast<BackendKind>(kind), [this] {
    if (waiter_ != nullptr) waiter_->Notify();
  });
  int result = reactor_->Open();
  uv_loop_t* loop = nullptr;
  if (result == 0 && napi_get_uv_event_loop(env, &loop) != napi_ok) {
    result = -EINVAL;
  }
  if (result == 0) {
    int pollable_fd = reactor_->strategy() == WaitStrategy::kPollableFd
                          ? reactor_->fileno()
                          : -1;
    // Torn down with the environment (a worker thread that ends): the
    // worker thread is joined before the waiter's handles close.
    waiter_ = Waiter::Create(
        env, loop, pollable_fd, [this] { OnWaitEnded(); },
        [this] {
          reactor_->Close();
          waiter_ = nullptr;
        });
    if (waiter_ == nullptr) result = -ENOMEM;
  }
  if (result < 0) {
    reactor_->Close();
    Napi::Error error = Napi::Error::New(env, "cannot create the reactor");
    error.Set("errno", Napi::Number::New(env, -result));
    error.ThrowAsJavaScriptException();
    return;
  }
  // The callback's closure usually holds whoever owns this poller (the
  // reactor of a map, and so the map). Held by this object's JavaScript
  // side, not by a strong reference from here (a GC root), the whole cycle
  // is collected once dropped; a running wait keeps this object (Ref()).
  Napi::Object self = info.This().As<Napi::Object>();
  self.DefineProperty(Napi::PropertyDescriptor::Value(
      Napi::Symbol::New(env, "callback"), info[1], napi_default));
  callback_ = Napi::Weak(info[1].As<Napi::Function>());
  async_context_ = std::make_unique<Napi::AsyncContext>(env, "asyncore.Poller");
}

PollerWrap::~PollerWrap() { Shutdown(); }

bool PollerWrap::Busy() const {
  return reactor_->waiting() || (waiter_ != nullptr && waiter_->active());
}

void PollerWrap::Shutdown() {
  // libuv stops watching the reactor's fd while it is still open.
  if (waiter_ != nullptr) waiter_->StopPoll();
  // The worker first: it may still Notify() the waiter.
  if (reactor_) reactor_->Close();
  if (waiter_ != nullptr) {
    waiter_->Destroy();
    waiter_ = nullptr;
  }
}

Napi::Value PollerWrap::SetInterest(const Napi::CallbackInfo& info) {
  int32_t *fds = nullptr, *events = nullptr, *flags = nullptr;
  size_t fds_length = 0, events_length = 0, flags_length = 0;
  int32_t count = 0;
  if (!ArgInt32Array(info, 0, &fds, &fds_length) ||
      !ArgInt32Array(info, 1, &events, &events_length) ||
      !ArgInt(info, 2, &count)) {
    return info.Env().Undefined();
  }
  if (!info[3].IsUndefined() && !info[3].IsNull() &&
      !ArgInt32Array(info, 3, &flags, &flags_length)) {
    return info.Env().Undefined();
  }
  bool partial = false;
  if (!info[4].IsUndefined() && !ArgBool(info, 4, &partial)) {
    return info.Env().Undefined();
  }
  if (count < 0 || static_cast<size_t>(count) > fds_length ||
      static_cast<size_t>(count) > events_length ||
      (flags != nullptr && static_cast<size_t>(count) > flags_length)) {
    return Result(info, -EINVAL);
  }
  if (Busy()) return Result(info, -EBUSY);
  return Result(info, reactor_->Apply(fds, events, flags,
                                      static_cast<size_t>(count), !partial));
}

Napi::Value PollerWrap::Forget(const Napi::CallbackInfo& info) {
  int32_t fd = 0;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  return Result(info, reactor_->Forget(fd));
}

Napi::Value PollerWrap::Ctl(const Napi::CallbackInfo& info) {
  int32_t op = 0, fd = 0, events = 0;
  if (!ArgInt(info, 0, &op) || !ArgInt(info, 1, &fd) ||
      !ArgInt(info, 2, &events)) {
    return info.Env().Undefined();
  }
  return Result(info, reactor_->Control(op, fd, static_cast<uint32_t>(events)));
}

Napi::Value PollerWrap::PollNow(const Napi::CallbackInfo& info) {
  int32_t* out = nullptr;
  size_t out_length = 0;
  if (!ArgInt32Array(info, 0, &out, &out_length)) {
    return info.Env().Undefined();
  }
  if (Busy()) return Result(info, -EBUSY);
  return Result(info, reactor_->PollNow(out, out_length / 2));
}

Napi::Value PollerWrap::FindClosed(const Napi::CallbackInfo& info) {
  int32_t* out = nullptr;
  size_t out_length = 0;
  if (!ArgInt32Array(info, 0, &out, &out_length)) {
    return info.Env().Undefined();
  }
  if (Busy()) return Result(info, -EBUSY);
  return Result(info, reactor_->FindClosed(out, out_length / 2));
}

Napi::Value PollerWrap::Wait(const Napi::CallbackInfo& info) {
  double timeout_ms = 0;
  int32_t* out = nullptr;
  size_t out_length = 0;
  if (!ArgDouble(info, 0, &timeout_ms) ||
      !ArgInt32Array(info, 1, &out, &out_length)) {
    return info.Env().Undefined();
  }
  if (reactor_->closed()) return Result(info, -EBADF);
  if (Busy()) return Result(info, -EBUSY);
  int result;
  if (reactor_->strategy() == WaitStrategy::kPollableFd) {
    // libuv's error codes are -errno on Unix.
    result = reactor_->PrepareWait();
    if (result == 0) result = waiter_->StartFdWait(timeout_ms);
  } else {
    result = reactor_->StartWait(timeout_ms, out_length / 2);
    if (result == 0) waiter_->StartWorkerWait();
  }
  if (result == 0) {
    // Until the result is delivered, this object and out stay alive.
    wait_out_ = Napi::Persistent(info[1].As<Napi::Object>());
    Ref();
  }
  return Result(info, result);
}

void PollerWrap::OnWaitEnded() {
  Napi::Env env(env_);
  Napi::HandleScope scope(env);
  int32_t* out = nullptr;
  size_t out_length = 0;
  // wait() checked the type; a failure here leaves no room for pairs.
  Int32ArrayData(env, wait_out_.Value(), &out, &out_length);
  size_t capacity = out_length / 2;
  int count;
  bool woken = false;
  if (reactor_->strategy() == WaitStrategy::kPollableFd) {
    // The pairs go straight into the wait's Int32Array.
    count = reactor_->PollNow(out, capacity, &woken);
  } else {
    // The worker wrote them into the reactor's array, which the worker may
    // not share with JavaScript (the Int32Array's memory could be gone by
    // the end of the wait); one copy of the few that are ready.
    count = reactor_->result();
    woken = reactor_->woken();
    if (count > 0) {
      count = static_cast<int>(std::min(static_cast<size_t>(count), capacity));
      memcpy(out, reactor_->pairs(), 2 * sizeof(int32_t) * count);
    }
    reactor_->FinishWait();
  }
  Deliver(env, count, woken, /*from_loop=*/true);
}

void PollerWrap::Deliver(Napi::Env env, int count, bool woken, bool from_loop) {
  wait_out_.Reset();
  Unref();
  Napi::Function callback = callback_.Value();
  if (callback.IsEmpty()) return;
  napi_value args[] = {Napi::Number::New(env, count),
                       Napi::Boolean::New(env, woken)};
  // Nothing of this object is touched after the call: the callback may
  // close it, or drop the last reference to it.
  if (!from_loop) {
    callback.Call({args[0], args[1]});
    return;
  }
  // Called from libuv, not from JavaScript: MakeCallback runs the promise
  // jobs the callback queues, and an exception it throws is uncaught.
  Napi::AsyncContext* context = async_context_.get();
  callback.MakeCallback(env.Global(), {args[0], args[1]}, *context);
  if (env.IsExceptionPending()) {
    napi_fatal_exception(env, env.GetAndClearPendingException().Value());
  }
}

Napi::Value PollerWrap::Wake(const Napi::CallbackInfo& info) {
  if (!reactor_->closed()) reactor_->Wake();
  return info.Env().Undefined();
}

Napi::Value PollerWrap::SetReferenced(const Napi::CallbackInfo& info) {
  bool referenced = true;
  if (!ArgBool(info, 0, &referenced)) return info.Env().Undefined();
  if (waiter_ != nullptr) waiter_->SetReferenced(referenced);
  return info.Env().Undefined();
}

Napi::Value PollerWrap::Close(const Napi::CallbackInfo& info) {
  bool pending = Busy();
  Shutdown();
  // A wait still running ends with the close: its callback is called now,
  // as woken (it may not have run at all).
  if (pending) {
    reactor_->FinishWait();
    Deliver(info.Env(), 0, true, /*from_loop=*/false);
  }
  return info.Env().Undefined();
}

Napi::Value PollerWrap::Fileno(const Napi::CallbackInfo& info) {
  return Result(info, reactor_->closed() ? -1 : reactor_->fileno());
}

Napi::Value PollerWrap::Waiting(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Busy());
}

}  // namespace asyncore
