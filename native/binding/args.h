// Backstop argument checks: TypeScript validates every public argument and
// names the bad value; these only keep a wrong internal call from crashing
// the process. Each throws a TypeError and returns false on a mismatch
// (the addon is built with C++ exceptions disabled).
#ifndef ASYNCORE_BINDING_ARGS_H_
#define ASYNCORE_BINDING_ARGS_H_

#include <napi.h>
#include <stdint.h>

namespace asyncore {

inline bool FailAt(napi_env env, size_t index, const char* what) {
  std::string message =
      "argument " + std::to_string(index) + " must be " + what;
  napi_throw_type_error(env, nullptr, message.c_str());
  return false;
}

inline bool Fail(const Napi::CallbackInfo& info, size_t index,
                 const char* what) {
  return FailAt(info.Env(), index, what);
}

// The raw napi_* calls below do the type check and the read in one call:
// these run on every send() and recv(), where node-addon-api's wrappers
// would ask V8 two or three times. Each reads `value`, argument `index`,
// so that a plain napi callback (see BytesCall()) can use them too.
inline bool IntAt(napi_env env, napi_value value, size_t index, int32_t* out) {
  if (napi_get_value_int32(env, value, out) != napi_ok) {
    return FailAt(env, index, "a number");
  }
  return true;
}

inline bool DoubleAt(napi_env env, napi_value value, size_t index,
                     double* out) {
  if (napi_get_value_double(env, value, out) != napi_ok) {
    return FailAt(env, index, "a number");
  }
  return true;
}

// A Uint8Array (Buffer included): its bytes, not copied.
inline bool BytesAt(napi_env env, napi_value value, size_t index,
                    uint8_t** data, size_t* length) {
  napi_typedarray_type type = napi_int8_array;
  void* bytes = nullptr;
  if (napi_get_typedarray_info(env, value, &type, length, &bytes, nullptr,
                               nullptr) != napi_ok ||
      type != napi_uint8_array) {
    return FailAt(env, index, "a Uint8Array");
  }
  *data = static_cast<uint8_t*>(bytes);
  return true;
}

inline bool ArgInt(const Napi::CallbackInfo& info, size_t index, int32_t* out) {
  return IntAt(info.Env(), info[index], index, out);
}

inline bool ArgDouble(const Napi::CallbackInfo& info, size_t index,
                      double* out) {
  return DoubleAt(info.Env(), info[index], index, out);
}

inline bool ArgBool(const Napi::CallbackInfo& info, size_t index, bool* out) {
  if (!info[index].IsBoolean()) return Fail(info, index, "a boolean");
  *out = info[index].As<Napi::Boolean>().Value();
  return true;
}

inline bool ArgBytes(const Napi::CallbackInfo& info, size_t index,
                     uint8_t** data, size_t* length) {
  return BytesAt(info.Env(), info[index], index, data, length);
}

// An Int32Array's elements, not copied. node-addon-api's Int32Array would
// cost three calls (IsTypedArray, TypedArrayType, then As<> reads the info
// again); its constructor from known fields is private.
inline bool Int32ArrayData(napi_env env, napi_value value, int32_t** data,
                           size_t* length) {
  napi_typedarray_type type = napi_int8_array;
  void* elements = nullptr;
  if (napi_get_typedarray_info(env, value, &type, length, &elements, nullptr,
                               nullptr) != napi_ok ||
      type != napi_int32_array) {
    return false;
  }
  *data = static_cast<int32_t*>(elements);
  return true;
}

inline bool ArgInt32Array(const Napi::CallbackInfo& info, size_t index,
                          int32_t** data, size_t* length) {
  if (!Int32ArrayData(info.Env(), info[index], data, length)) {
    return Fail(info, index, "an Int32Array");
  }
  return true;
}

// Every result is a count or -errno, an integer: an int32 (a Smi, which
// napi_create_int32() makes without entering V8) whenever it fits.
inline napi_value ResultValue(napi_env env, int64_t value) {
  napi_value out = nullptr;
  if (value >= INT32_MIN && value <= INT32_MAX) {
    napi_create_int32(env, static_cast<int32_t>(value), &out);
  } else {
    napi_create_int64(env, value, &out);
  }
  return out;
}

inline Napi::Value Result(const Napi::CallbackInfo& info, int64_t value) {
  return Napi::Value(info.Env(), ResultValue(info.Env(), value));
}

}  // namespace asyncore

#endif  // ASYNCORE_BINDING_ARGS_H_
