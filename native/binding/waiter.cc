#include "waiter.h"

#include <cmath>

namespace asyncore {

Waiter* Waiter::Create(napi_env env, uv_loop_t* loop, int pollable_fd,
                       ReadyCallback on_ready,
                       std::function<void()> on_teardown) {
  auto* waiter = new Waiter(std::move(on_ready));
  waiter->on_teardown_ = std::move(on_teardown);
  if (uv_async_init(loop, &waiter->async_, [](uv_async_t* handle) {
        auto* self = static_cast<Waiter*>(handle->data);
        if (self->worker_wait_) self->Finish();
      }) != 0) {
    delete waiter;
    return nullptr;
  }
  waiter->async_.data = waiter;
  // An idle poller must not keep the process alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(&waiter->async_));
  waiter->handles_open_ = 1;
  uv_timer_init(loop, &waiter->timer_);
  waiter->timer_.data = waiter;
  waiter->handles_open_++;
  bool ok = true;
  if (pollable_fd >= 0) {
    if (uv_poll_init(loop, &waiter->poll_, pollable_fd) == 0) {
      waiter->poll_.data = waiter;
      waiter->has_poll_ = true;
      waiter->handles_open_++;
    } else {
      ok = false;
    }
  }
  if (napi_add_async_cleanup_hook(env, &Waiter::OnTeardown, waiter,
                                  &waiter->hook_) != napi_ok) {
    waiter->hook_ = nullptr;
    ok = false;
  }
  if (!ok) {
    waiter->Destroy();
    return nullptr;
  }
  return waiter;
}

void Waiter::OnTeardown(napi_async_cleanup_hook_handle, void* self) {
  auto* waiter = static_cast<Waiter*>(self);
  // Closing already: the last close removes the hook.
  if (waiter->destroyed_) return;
  // The owner stops its threads, closes its fd and forgets the waiter; then
  // it goes.
  waiter->StopPoll();
  std::function<void()> on_teardown = std::move(waiter->on_teardown_);
  if (on_teardown) on_teardown();
  waiter->Destroy();
}

void Waiter::StartWorkerWait() {
  worker_wait_ = true;
  active_ = true;
  ApplyReferenced();
}

void Waiter::SetReferenced(bool referenced) {
  referenced_ = referenced;
  if (active_) ApplyReferenced();
}

void Waiter::ApplyReferenced() {
  auto set = [this](uv_handle_t* handle) {
    if (referenced_) {
      uv_ref(handle);
    } else {
      uv_unref(handle);
    }
  };
  if (worker_wait_) {
    set(reinterpret_cast<uv_handle_t*>(&async_));
    return;
  }
  set(reinterpret_cast<uv_handle_t*>(&poll_));
  set(reinterpret_cast<uv_handle_t*>(&timer_));
}

int Waiter::StartFdWait(double timeout_ms) {
  if (!has_poll_) return UV_EINVAL;
  // Still watched since the last wait, libuv changes nothing in its epoll.
  if (!poll_started_) {
    int result =
        uv_poll_start(&poll_, UV_READABLE, [](uv_poll_t* handle, int, int) {
          auto* self = static_cast<Waiter*>(handle->data);
          if (self->active_) {
            self->Finish();
          } else {
            // Ready while nobody waits: stop watching until the next wait.
            self->StopPoll();
          }
        });
    if (result != 0) return result;
    poll_started_ = true;
  }
  if (timeout_ms >= 0) {
    // libuv counts timers from the time it cached at the start of this
    // loop turn, which may be long past when JavaScript ran a while.
    uv_update_time(poll_.loop);
    auto ms = static_cast<uint64_t>(std::ceil(timeout_ms));
    uv_timer_start(
        &timer_,
        [](uv_timer_t* handle) {
          static_cast<Waiter*>(handle->data)->Finish();
        },
        ms, 0);
  }
  active_ = true;
  // Stop() left the poll handle unreferenced.
  ApplyReferenced();
  return 0;
}

void Waiter::Stop() {
  if (!active_) return;
  active_ = false;
  if (worker_wait_) {
    worker_wait_ = false;
    uv_unref(reinterpret_cast<uv_handle_t*>(&async_));
    return;
  }
  // The fd stays watched, unreferenced, so that a wait started again soon
  // (a reactor's next pass) costs libuv no epoll_ctl() to stop and restart.
  uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
  uv_timer_stop(&timer_);
}

void Waiter::StopPoll() {
  if (!poll_started_) return;
  poll_started_ = false;
  uv_poll_stop(&poll_);
}

void Waiter::Finish() {
  if (!active_) return;
  Stop();
  on_ready_();
}

void Waiter::Closed() {
  if (--handles_open_ > 0) return;
  // Node may finish tearing the environment down (and unload this code)
  // once the hook is gone: nothing of this object runs after it.
  if (hook_ != nullptr) napi_remove_async_cleanup_hook(hook_);
  delete this;
}

void Waiter::Destroy() {
  if (destroyed_) return;
  destroyed_ = true;
  Stop();
  on_ready_ = nullptr;
  on_teardown_ = nullptr;
  auto on_closed = [](uv_handle_t* handle) {
    static_cast<Waiter*>(handle->data)->Closed();
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_closed);
  if (has_poll_) uv_close(reinterpret_cast<uv_handle_t*>(&poll_), on_closed);
}

}  // namespace asyncore
