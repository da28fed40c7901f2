#include "env_fds.h"

#include <sys/stat.h>

#include "../core/fd_ops.h"

namespace asyncore {

void EnvFds::Install(Napi::Env env) { env.SetInstanceData(new EnvFds()); }

void EnvFds::Opened(int fd) {
  struct stat info;
  if (fstat(fd, &info) == 0) fds_[fd] = {info.st_dev, info.st_ino};
}

EnvFds::~EnvFds() {
  for (const auto& [fd, identity] : fds_) {
    struct stat info;
    if (fstat(fd, &info) == 0 && info.st_dev == identity.dev &&
        info.st_ino == identity.ino) {
      Close(fd);
    }
  }
}

}  // namespace asyncore
