#include "loop_waiter.h"

#include <cmath>

namespace asyncore {

LoopWaiter* LoopWaiter::Create(uv_loop_t* loop, int fd,
                               ReadyCallback on_ready) {
  auto* waiter = new LoopWaiter(std::move(on_ready));
  if (uv_poll_init(loop, &waiter->poll_, fd) != 0) {
    delete waiter;
    return nullptr;
  }
  uv_timer_init(loop, &waiter->timer_);
  waiter->poll_.data = waiter;
  waiter->timer_.data = waiter;
  waiter->handles_open_ = 2;
  return waiter;
}

int LoopWaiter::Start(double timeout_ms) {
  int result =
      uv_poll_start(&poll_, UV_READABLE, [](uv_poll_t* handle, int, int) {
        static_cast<LoopWaiter*>(handle->data)->Finish();
      });
  if (result != 0) return result;
  if (timeout_ms >= 0) {
    // libuv counts timers from the time it cached at the start of this
    // loop turn, which may be long past when JavaScript ran a while.
    uv_update_time(poll_.loop);
    auto ms = static_cast<uint64_t>(std::ceil(timeout_ms));
    uv_timer_start(
        &timer_,
        [](uv_timer_t* handle) {
          static_cast<LoopWaiter*>(handle->data)->Finish();
        },
        ms, 0);
  }
  active_ = true;
  return 0;
}

void LoopWaiter::Stop() {
  if (!active_) return;
  active_ = false;
  uv_poll_stop(&poll_);
  uv_timer_stop(&timer_);
}

void LoopWaiter::Finish() {
  if (!active_) return;
  Stop();
  on_ready_();
}

void LoopWaiter::Destroy() {
  Stop();
  on_ready_ = nullptr;
  auto on_closed = [](uv_handle_t* handle) {
    auto* waiter = static_cast<LoopWaiter*>(handle->data);
    if (--waiter->handles_open_ == 0) delete waiter;
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_closed);
}

}  // namespace asyncore
