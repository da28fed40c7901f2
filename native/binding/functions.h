// What each binding file adds to the addon's exports.
#ifndef ASYNCORE_BINDING_FUNCTIONS_H_
#define ASYNCORE_BINDING_FUNCTIONS_H_

#include <napi.h>

namespace asyncore {

void DefineConstants(Napi::Env env, Napi::Object exports);
void DefineEventLoopFunctions(Napi::Env env, Napi::Object exports);
void DefineFdFunctions(Napi::Env env, Napi::Object exports);
void DefineSocketFunctions(Napi::Env env, Napi::Object exports);

}  // namespace asyncore

#endif  // ASYNCORE_BINDING_FUNCTIONS_H_
