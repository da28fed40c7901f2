// The fds the package opened in one Node environment (the main thread or a
// worker thread): sockets, pipes and dup()s. They are closed when that
// environment is torn down, so that a worker that is terminated, or ends by
// itself, leaves none behind, as Node's own net module leaves none. (Pollers
// close their fds themselves, in their own cleanup hook.)
#ifndef ASYNCORE_BINDING_ENV_FDS_H_
#define ASYNCORE_BINDING_ENV_FDS_H_

#include <napi.h>
#include <sys/types.h>

#include <unordered_map>

namespace asyncore {

class EnvFds {
 public:
  // Makes the environment's set; its finalizer closes what is left.
  static void Install(Napi::Env env);
  // The environment's set; nullptr before Install().
  static EnvFds* Of(Napi::Env env) { return env.GetInstanceData<EnvFds>(); }

  EnvFds() = default;
  ~EnvFds();
  EnvFds(const EnvFds&) = delete;
  EnvFds& operator=(const EnvFds&) = delete;

  void Opened(int fd);
  void Closed(int fd) { fds_.erase(fd); }

 private:
  // Which file an fd was. A number closed by other means (fs.closeSync())
  // may since hold someone else's file, which must not be closed for us.
  struct Identity {
    dev_t dev;
    ino_t ino;
  };
  std::unordered_map<int, Identity> fds_;
};

// For the binding functions: records a new fd (result >= 0) and returns it.
inline int Track(const Napi::CallbackInfo& info, int result) {
  EnvFds* fds = result >= 0 ? EnvFds::Of(info.Env()) : nullptr;
  if (fds != nullptr) fds->Opened(result);
  return result;
}

inline void Untrack(const Napi::CallbackInfo& info, int fd) {
  EnvFds* fds = EnvFds::Of(info.Env());
  if (fds != nullptr) fds->Closed(fd);
}

}  // namespace asyncore

#endif  // ASYNCORE_BINDING_ENV_FDS_H_
