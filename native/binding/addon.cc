// The addon's entry point: it only gathers what each binding file defines.
#include <napi.h>

#include "env_fds.h"
#include "functions.h"
#include "poller_wrap.h"

namespace asyncore {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  EnvFds::Install(env);
  DefineConstants(env, exports);
  DefineEventLoopFunctions(env, exports);
  DefineFdFunctions(env, exports);
  DefineSocketFunctions(env, exports);
  exports.Set("Poller", PollerWrap::Define(env));
  return exports;
}

}  // namespace asyncore

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  return asyncore::Init(env, exports);
}

NODE_API_MODULE(asyncore, InitAddon)
