#include "reactor.h"

#include <errno.h>
#include <signal.h>

namespace asyncore {

Reactor::Reactor(BackendKind kind, DoneCallback on_done)
    : kind_(kind), on_done_(std::move(on_done)) {}

Reactor::~Reactor() { Close(); }

int Reactor::Open() {
  backend_ = MakeBackend(kind_, &raw_epoll_);
  if (!backend_) return -ENOSYS;
  return backend_->Open();
}

int Reactor::PrepareWait() {
  if (closed_) return -EBADF;
  if (wakeup_watched_) return 0;
  if (wakeup_.fd() < 0) {
    int result = wakeup_.Open();
    if (result < 0) return result;
  }
  int result = backend_->WatchWakeup(wakeup_.fd());
  if (result < 0) return result;
  wakeup_watched_ = true;
  return 0;
}

void Reactor::Close() {
  if (closed_) return;
  closed_ = true;
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    job_ready_.notify_one();
    // A worker blocked in the kernel does not see stopping_ until woken.
    wakeup_.Signal();
    worker_.join();
  }
  if (backend_) backend_->Close();
  wakeup_.Close();
}

int Reactor::Apply(const int32_t* fds, const int32_t* events,
                   const int32_t* flags, size_t count, bool replace) {
  if (closed_) return -EBADF;
  if (waiting_) return -EBUSY;
  return backend_->Apply(fds, events, flags, count, replace);
}

int Reactor::Forget(int32_t fd) {
  if (closed_) return -EBADF;
  if (waiting_) return -EBUSY;
  return backend_->Forget(fd);
}

int Reactor::Control(int op, int fd, uint32_t events) {
  if (closed_) return -EBADF;
  if (raw_epoll_ == nullptr) return -EINVAL;
  return raw_epoll_->Control(op, fd, events);
}

int Reactor::PollNow(int32_t* out, size_t capacity, bool* woken) {
  if (closed_) return -EBADF;
  if (waiting_) return -EBUSY;
  bool wake_pending = false;
  int result = backend_->Wait(0, out, capacity, &wake_pending);
  // No wait is running on the worker, so a pending wake-up is for this call
  // only: the caller acts on the state it just computed.
  if (wake_pending) wakeup_.Drain();
  if (woken != nullptr) *woken = wake_pending;
  return result;
}

int Reactor::FindClosed(int32_t* out, size_t capacity) {
  if (closed_) return -EBADF;
  if (waiting_) return -EBUSY;
  return static_cast<int>(backend_->FindClosed(out, 0, capacity));
}

int Reactor::StartWait(double timeout_ms, size_t capacity) {
  if (closed_) return -EBADF;
  if (waiting_) return -EBUSY;
  int prepared = PrepareWait();
  if (prepared < 0) return prepared;
  if (!worker_.joinable()) {
    // Block every signal in the worker, so that signals reach Node's own
    // thread, whose handlers run them (libuv does the same for its threads).
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    try {
      worker_ = std::thread(&Reactor::RunWorker, this);
    } catch (const std::system_error& error) {
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      return -error.code().value();
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }
  // Sized here, on the caller's thread; the worker only writes into it.
  results_.resize(2 * capacity);
  waiting_ = true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_timeout_ms_ = timeout_ms;
    job_pending_ = true;
  }
  job_ready_.notify_one();
  return 0;
}

void Reactor::RunWorker() {
  for (;;) {
    double timeout_ms;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      job_ready_.wait(lock, [this] { return job_pending_ || stopping_; });
      if (stopping_) return;
      job_pending_ = false;
      timeout_ms = job_timeout_ms_;
    }
    bool woken = false;
    int result = backend_->Wait(timeout_ms, results_.data(),
                                results_.size() / 2, &woken);
    if (woken) wakeup_.Drain();
    {
      // The mutex orders these writes (and the pairs') before the reads of
      // whoever on_done_ hands the results to.
      std::lock_guard<std::mutex> lock(mutex_);
      result_ = result;
      woken_ = woken;
    }
    on_done_();
  }
}

}  // namespace asyncore
