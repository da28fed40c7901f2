// eventLoopHasWork(): whether Node's event loop would run anything if it
// had a turn now. A caller that holds the JavaScript thread in a run of
// short waits (a forking server's child, reading its one request) asks
// before it gives the loop a turn: when nothing is due, the turn would
// only cost time.
//
// libuv says how long its next poll may wait (uv_backend_timeout()), but
// answers 0 for a loop that nothing keeps alive, which tells nothing. So
// each environment keeps one timer of its own, started far in the future
// and unreferenced, and references it for the length of the question.
#include <errno.h>
#include <node_api.h>
#include <poll.h>
#include <stdint.h>
#include <uv.h>

#include "functions.h"

namespace asyncore {

namespace {

class LoopProbe {
 public:
  // The probe of env, made on first use (Node runs one environment per
  // thread); nullptr when libuv or Node refuses it.
  static LoopProbe* Of(napi_env env, uv_loop_t* loop) {
    if (current_ != nullptr && current_->env_ == env) return current_;
    auto* probe = new LoopProbe();
    probe->env_ = env;
    if (uv_timer_init(loop, &probe->timer_) != 0) {
      delete probe;
      return nullptr;
    }
    probe->timer_.data = probe;
    uv_timer_start(
        &probe->timer_, [](uv_timer_t*) {}, UINT64_MAX, 0);
    uv_unref(probe->handle());
    if (napi_add_async_cleanup_hook(env, &LoopProbe::OnTeardown, probe,
                                    &probe->hook_) != napi_ok) {
      probe->hook_ = nullptr;
      probe->Close();
      return nullptr;
    }
    current_ = probe;
    return probe;
  }

  // A due timer, or a handle that makes libuv poll without waiting (an
  // immediate, a pending callback, a closing handle), or a ready fd of the
  // loop: I/O, a signal, a wake-up from another thread (a worker's message,
  // a V8 platform task). True also when a call fails.
  bool HasWork(uv_loop_t* loop) {
    uv_ref(handle());
    int timeout = uv_backend_timeout(loop);
    uv_unref(handle());
    if (timeout == 0) return true;
    // The loop's clock stopped at its last turn.
    if (timeout > 0 && uv_hrtime() / 1000000 >= uv_now(loop) + timeout) {
      return true;
    }
    int fd = uv_backend_fd(loop);
    if (fd < 0) return true;
    struct pollfd ready = {fd, POLLIN, 0};
    int result;
    do {
      result = poll(&ready, 1, 0);
    } while (result < 0 && errno == EINTR);
    return result != 0;
  }

 private:
  uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&timer_); }

  void Close() {
    uv_close(handle(), [](uv_handle_t* handle) {
      auto* probe = static_cast<LoopProbe*>(handle->data);
      if (probe->hook_ != nullptr) napi_remove_async_cleanup_hook(probe->hook_);
      delete probe;
    });
  }

  static void OnTeardown(napi_async_cleanup_hook_handle, void* self) {
    auto* probe = static_cast<LoopProbe*>(self);
    if (current_ == probe) current_ = nullptr;
    probe->Close();
  }

  uv_timer_t timer_;
  napi_env env_ = nullptr;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  static thread_local LoopProbe* current_;
};

thread_local LoopProbe* LoopProbe::current_ = nullptr;

Napi::Value EventLoopHasWorkFn(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  uv_loop_t* loop = nullptr;
  LoopProbe* probe = nullptr;
  if (napi_get_uv_event_loop(env, &loop) == napi_ok && loop != nullptr) {
    probe = LoopProbe::Of(env, loop);
  }
  return Napi::Boolean::New(env, probe == nullptr || probe->HasWork(loop));
}

}  // namespace

void DefineEventLoopFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("eventLoopHasWork",
              Napi::Function::New(env, EventLoopHasWorkFn, "eventLoopHasWork"));
}

}  // namespace asyncore
