// A file descriptor that makes a waiting backend return at once: an eventfd
// on Linux, a non-blocking self-pipe elsewhere (libuv's src/unix/async.c).
#ifndef ASYNCORE_CORE_WAKEUP_H_
#define ASYNCORE_CORE_WAKEUP_H_

#include <atomic>

namespace asyncore {

class Wakeup {
 public:
  Wakeup() = default;
  ~Wakeup() { Close(); }
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  // 0 or -errno. A Signal() made before is delivered now.
  int Open();
  void Close();
  // The fd to watch for reading; -1 until opened.
  int fd() const { return read_fd_; }
  // Thread-safe. Wake-ups are coalesced: one write until the next Drain().
  void Signal();
  // Empties the fd.
  void Drain();

 private:
  int read_fd_ = -1;
  // Read by Signal() on any thread, also before Open().
  std::atomic<int> write_fd_{-1};
  std::atomic<bool> pending_{false};
};

}  // namespace asyncore

#endif  // ASYNCORE_CORE_WAKEUP_H_
