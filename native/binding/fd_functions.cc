// posix: plain file descriptor calls. Each returns its result or -errno.
#include <errno.h>

#include "../core/fd_ops.h"
#include "args.h"
#include "env_fds.h"
#include "functions.h"

namespace asyncore {

namespace {

Napi::Value PipeFn(const Napi::CallbackInfo& info) {
  int32_t* out = nullptr;
  size_t out_length = 0;
  if (!ArgInt32Array(info, 0, &out, &out_length)) return info.Env().Undefined();
  if (out_length < 2) return Result(info, -EINVAL);
  int fds[2];
  int result = Pipe(fds);
  if (result == 0) {
    out[0] = Track(info, fds[0]);
    out[1] = Track(info, fds[1]);
  }
  return Result(info, result);
}

Napi::Value DupFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  return Result(info, Track(info, Dup(fd)));
}

Napi::Value CloseFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  int result = Close(fd);
  // Closed even when close(2) reports an error (EINTR, EIO).
  if (result != -EBADF) Untrack(info, fd);
  return Result(info, result);
}

Napi::Value ReadFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0;
  uint8_t* data = nullptr;
  size_t length = 0;
  if (!ArgInt(info, 0, &fd) || !ArgBytes(info, 1, &data, &length)) {
    return info.Env().Undefined();
  }
  return Result(info, Read(fd, data, length));
}

Napi::Value WriteFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0;
  uint8_t* data = nullptr;
  size_t length = 0;
  if (!ArgInt(info, 0, &fd) || !ArgBytes(info, 1, &data, &length)) {
    return info.Env().Undefined();
  }
  return Result(info, Write(fd, data, length));
}

Napi::Value SetBlockingFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0;
  bool flag = false;
  if (!ArgInt(info, 0, &fd) || !ArgBool(info, 1, &flag)) {
    return info.Env().Undefined();
  }
  return Result(info, SetBlocking(fd, flag));
}

Napi::Value GetBlockingFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  return Result(info, GetBlocking(fd));
}

Napi::Value SetInheritableFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0;
  bool flag = false;
  if (!ArgInt(info, 0, &fd) || !ArgBool(info, 1, &flag)) {
    return info.Env().Undefined();
  }
  return Result(info, SetInheritable(fd, flag));
}

Napi::Value GetInheritableFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  return Result(info, GetInheritable(fd));
}

}  // namespace

void DefineFdFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe", Napi::Function::New<PipeFn>(env, "pipe"));
  exports.Set("dup", Napi::Function::New<DupFn>(env, "dup"));
  exports.Set("close", Napi::Function::New<CloseFn>(env, "close"));
  exports.Set("read", Napi::Function::New<ReadFn>(env, "read"));
  exports.Set("write", Napi::Function::New<WriteFn>(env, "write"));
  exports.Set("setBlocking",
              Napi::Function::New<SetBlockingFn>(env, "setBlocking"));
  exports.Set("getBlocking",
              Napi::Function::New<GetBlockingFn>(env, "getBlocking"));
  exports.Set("setInheritable",
              Napi::Function::New<SetInheritableFn>(env, "setInheritable"));
  exports.Set("getInheritable",
              Napi::Function::New<GetInheritableFn>(env, "getInheritable"));
}

}  // namespace asyncore
