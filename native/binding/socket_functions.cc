// socket: socket calls, and sockaddrs to and from JavaScript. Addresses go
// in as the Buffer that resolve() made, and come out as Python shows them:
// [host, port], [host, port, flowinfo, scope_id] or a unix path string.
#include <errno.h>
#include <netdb.h>
#include <string.h>

#include "../core/socket_ops.h"
#include "args.h"
#include "env_fds.h"
#include "functions.h"

namespace asyncore {

namespace {

bool ArgSockaddr(const Napi::CallbackInfo& info, size_t index, Sockaddr* out) {
  uint8_t* data = nullptr;
  size_t length = 0;
  if (!ArgBytes(info, index, &data, &length)) return false;
  if (length > sizeof(out->storage)) return Fail(info, index, "a sockaddr");
  memset(&out->storage, 0, sizeof(out->storage));
  memcpy(&out->storage, data, length);
  out->length = static_cast<socklen_t>(length);
  return true;
}

// The address as JavaScript sees it, or -errno as a number.
Napi::Value AddressValue(Napi::Env env, const Sockaddr& addr) {
  AddressParts parts;
  auto* sa = reinterpret_cast<const struct sockaddr*>(&addr.storage);
  int result = DescribeAddress(sa, addr.length, &parts);
  if (result < 0) return Napi::Number::New(env, result);
  if (parts.family == AF_UNIX) {
    return Napi::String::New(env, parts.host.data(), parts.host.size());
  }
  Napi::Array tuple = Napi::Array::New(env);
  tuple.Set(uint32_t{0}, Napi::String::New(env, parts.host));
  tuple.Set(uint32_t{1}, Napi::Number::New(env, parts.port));
  if (parts.family == AF_INET6) {
    tuple.Set(uint32_t{2}, Napi::Number::New(env, parts.flowinfo));
    tuple.Set(uint32_t{3}, Napi::Number::New(env, parts.scope_id));
  }
  return tuple;
}

Napi::Value Pair(Napi::Env env, double first, Napi::Value second) {
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(uint32_t{0}, Napi::Number::New(env, first));
  pair.Set(uint32_t{1}, second);
  return pair;
}

Napi::Value SocketFn(const Napi::CallbackInfo& info) {
  int32_t family = 0, type = 0, proto = 0;
  if (!ArgInt(info, 0, &family) || !ArgInt(info, 1, &type) ||
      !ArgInt(info, 2, &proto)) {
    return info.Env().Undefined();
  }
  return Result(info, Track(info, Socket(family, type, proto)));
}

Napi::Value SocketPairFn(const Napi::CallbackInfo& info) {
  int32_t family = 0, type = 0, proto = 0;
  int32_t* out = nullptr;
  size_t out_length = 0;
  if (!ArgInt(info, 0, &family) || !ArgInt(info, 1, &type) ||
      !ArgInt(info, 2, &proto) || !ArgInt32Array(info, 3, &out, &out_length)) {
    return info.Env().Undefined();
  }
  if (out_length < 2) return Result(info, -EINVAL);
  int fds[2];
  int result = SocketPair(family, type, proto, fds);
  if (result == 0) {
    out[0] = Track(info, fds[0]);
    out[1] = Track(info, fds[1]);
  }
  return Result(info, result);
}

// resolve(family, type, host, port, flowinfo, scopeId): a sockaddr Buffer,
// or a number (-errno, or kGaiErrorBase - EAI code).
Napi::Value ResolveFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t family = 0, type = 0, port = 0;
  double flowinfo = 0, scope_id = 0;
  if (!ArgInt(info, 0, &family) || !ArgInt(info, 1, &type) ||
      !ArgInt(info, 3, &port) || !ArgDouble(info, 4, &flowinfo) ||
      !ArgDouble(info, 5, &scope_id)) {
    return env.Undefined();
  }
  std::string host;
  if (info[2].IsString()) {
    host = info[2].As<Napi::String>().Utf8Value();
  } else {
    uint8_t* data;
    size_t length;
    if (!ArgBytes(info, 2, &data, &length)) return env.Undefined();
    host.assign(reinterpret_cast<char*>(data), length);
  }
  // A host name with a NUL inside would be cut short by getaddrinfo().
  if (family != AF_UNIX && host.find('\0') != std::string::npos) {
    return Result(info, -EINVAL);
  }
  Sockaddr addr;
  int result = ResolveAddress(family, type, host.c_str(), host.size(), port,
                              static_cast<uint32_t>(flowinfo),
                              static_cast<uint32_t>(scope_id), &addr);
  if (result != 0) return Result(info, result);
  return Napi::Buffer<uint8_t>::Copy(
      env, reinterpret_cast<const uint8_t*>(&addr.storage), addr.length);
}

Napi::Value GaiStrerrorFn(const Napi::CallbackInfo& info) {
  int32_t code = 0;
  if (!ArgInt(info, 0, &code)) return info.Env().Undefined();
  return Napi::String::New(info.Env(), gai_strerror(code));
}

Napi::Value BindFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0;
  Sockaddr addr;
  if (!ArgInt(info, 0, &fd) || !ArgSockaddr(info, 1, &addr)) {
    return info.Env().Undefined();
  }
  return Result(info, Bind(fd, addr));
}

Napi::Value ListenFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0, backlog = 0;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &backlog)) {
    return info.Env().Undefined();
  }
  return Result(info, Listen(fd, backlog));
}

Napi::Value AcceptFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0;
  double timeout_ms = 0;
  if (!ArgInt(info, 0, &fd) || !ArgDouble(info, 1, &timeout_ms)) {
    return info.Env().Undefined();
  }
  Sockaddr peer;
  int result = Track(info, Accept(fd, timeout_ms, &peer));
  if (result < 0) return Result(info, result);
  return Pair(info.Env(), result, AddressValue(info.Env(), peer));
}

Napi::Value ConnectFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0;
  Sockaddr addr;
  double timeout_ms = 0;
  if (!ArgInt(info, 0, &fd) || !ArgSockaddr(info, 1, &addr) ||
      !ArgDouble(info, 2, &timeout_ms)) {
    return info.Env().Undefined();
  }
  return Result(info, Connect(fd, addr, timeout_ms));
}

// send(), recv() and recvWithin() take the same arguments (fd, bytes,
// flags, timeoutMs) and return a count or -errno. They run once per
// message, so they are plain napi callbacks: node-addon-api's wrapper also
// fetches `this` and the callback data and sets up its own exception
// handling. A 64-byte send + recv on a socketpair took 4% less time so
// (slices of the two builds interleaved in one process). Call is Send(),
// Recv() or RecvWithin(): the bytes convert to the buffer type each takes.
template <auto Call>
napi_value BytesCall(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) {
    return nullptr;
  }
  // Missing arguments read as undefined, which every check refuses.
  int32_t fd = 0, flags = 0;
  uint8_t* data = nullptr;
  size_t length = 0;
  double timeout_ms = 0;
  if (!IntAt(env, argv[0], 0, &fd) ||
      !BytesAt(env, argv[1], 1, &data, &length) ||
      !IntAt(env, argv[2], 2, &flags) ||
      !DoubleAt(env, argv[3], 3, &timeout_ms)) {
    return nullptr;
  }
  return ResultValue(env, Call(fd, data, length, flags, timeout_ms));
}

Napi::Value SendToFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0, flags = 0;
  uint8_t* data = nullptr;
  size_t length = 0;
  Sockaddr addr;
  double timeout_ms = 0;
  if (!ArgInt(info, 0, &fd) || !ArgBytes(info, 1, &data, &length) ||
      !ArgInt(info, 2, &flags) || !ArgSockaddr(info, 3, &addr) ||
      !ArgDouble(info, 4, &timeout_ms)) {
    return info.Env().Undefined();
  }
  return Result(info, SendTo(fd, data, length, flags, addr, timeout_ms));
}

// recvMany(fds, count, arena, each, results): a non-blocking recv() of up
// to `each` bytes from each of the first `count` fds, fd i into
// arena[i * each ...]; results[i] is the count or -errno. One call for a
// pass's reads.
Napi::Value RecvManyFn(const Napi::CallbackInfo& info) {
  int32_t* fds = nullptr;
  size_t fd_length = 0;
  int32_t count = 0, each = 0;
  uint8_t* arena = nullptr;
  size_t arena_length = 0;
  int32_t* results = nullptr;
  size_t result_length = 0;
  if (!ArgInt32Array(info, 0, &fds, &fd_length) || !ArgInt(info, 1, &count) ||
      !ArgBytes(info, 2, &arena, &arena_length) || !ArgInt(info, 3, &each) ||
      !ArgInt32Array(info, 4, &results, &result_length)) {
    return info.Env().Undefined();
  }
  if (count < 0 || each <= 0 || static_cast<size_t>(count) > fd_length ||
      static_cast<size_t>(count) > result_length ||
      static_cast<size_t>(count) * static_cast<size_t>(each) > arena_length) {
    Napi::RangeError::New(info.Env(), "recvMany(): count out of range")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  for (int32_t i = 0; i < count; i++) {
    results[i] = static_cast<int32_t>(Recv(
        fds[i], arena + static_cast<size_t>(i) * each, each, MSG_DONTWAIT, 0));
  }
  return Napi::Number::New(info.Env(), count);
}

// sendMany(fds, count, arena, spans, results): a non-blocking send() to
// each of the first `count` fds of arena[spans[2i] ... + spans[2i+1]];
// results[i] is the count or -errno.
Napi::Value SendManyFn(const Napi::CallbackInfo& info) {
  int32_t* fds = nullptr;
  size_t fd_length = 0;
  int32_t count = 0;
  uint8_t* arena = nullptr;
  size_t arena_length = 0;
  int32_t* spans = nullptr;
  size_t span_length = 0;
  int32_t* results = nullptr;
  size_t result_length = 0;
  if (!ArgInt32Array(info, 0, &fds, &fd_length) || !ArgInt(info, 1, &count) ||
      !ArgBytes(info, 2, &arena, &arena_length) ||
      !ArgInt32Array(info, 3, &spans, &span_length) ||
      !ArgInt32Array(info, 4, &results, &result_length)) {
    return info.Env().Undefined();
  }
  if (count < 0 || static_cast<size_t>(count) > fd_length ||
      static_cast<size_t>(count) > result_length ||
      2 * static_cast<size_t>(count) > span_length) {
    Napi::RangeError::New(info.Env(), "sendMany(): count out of range")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  for (int32_t i = 0; i < count; i++) {
    size_t start = static_cast<uint32_t>(spans[2 * i]);
    size_t length = static_cast<uint32_t>(spans[2 * i + 1]);
    if (start > arena_length || length > arena_length - start) {
      results[i] = -EINVAL;
      continue;
    }
    // -1: the connection closed during the pass; its bytes are dropped.
    results[i] = fds[i] < 0
                     ? -EBADF
                     : static_cast<int32_t>(Send(fds[i], arena + start, length,
                                                 MSG_DONTWAIT, 0));
  }
  return Napi::Number::New(info.Env(), count);
}

Napi::Value RecvFromFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0, flags = 0;
  uint8_t* data = nullptr;
  size_t length = 0;
  double timeout_ms = 0;
  if (!ArgInt(info, 0, &fd) || !ArgBytes(info, 1, &data, &length) ||
      !ArgInt(info, 2, &flags) || !ArgDouble(info, 3, &timeout_ms)) {
    return info.Env().Undefined();
  }
  Sockaddr from;
  ssize_t result = RecvFrom(fd, data, length, flags, timeout_ms, &from);
  if (result < 0) return Result(info, result);
  return Pair(info.Env(), static_cast<double>(result),
              AddressValue(info.Env(), from));
}

Napi::Value ShutdownFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0, how = 0;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &how)) {
    return info.Env().Undefined();
  }
  return Result(info, Shutdown(fd, how));
}

template <int (*Get)(int, Sockaddr*)>
Napi::Value NameFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  Sockaddr addr;
  int result = Get(fd, &addr);
  if (result < 0) return Result(info, result);
  return AddressValue(info.Env(), addr);
}

Napi::Value SetSockOptIntFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0, level = 0, name = 0, value = 0;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) ||
      !ArgInt(info, 2, &name) || !ArgInt(info, 3, &value)) {
    return info.Env().Undefined();
  }
  int option = value;
  return Result(info, SetSockOpt(fd, level, name, &option, sizeof(option)));
}

Napi::Value SetSockOptBufFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0, level = 0, name = 0;
  uint8_t* data = nullptr;
  size_t length = 0;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) ||
      !ArgInt(info, 2, &name) || !ArgBytes(info, 3, &data, &length)) {
    return info.Env().Undefined();
  }
  return Result(
      info, SetSockOpt(fd, level, name, data, static_cast<socklen_t>(length)));
}

Napi::Value GetSockOptIntFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0, level = 0, name = 0;
  int32_t* out = nullptr;
  size_t out_length = 0;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) ||
      !ArgInt(info, 2, &name) || !ArgInt32Array(info, 3, &out, &out_length)) {
    return info.Env().Undefined();
  }
  if (out_length < 1) return Result(info, -EINVAL);
  int value = 0;
  socklen_t length = sizeof(value);
  int result = GetSockOpt(fd, level, name, &value, &length);
  if (result == 0) out[0] = value;
  return Result(info, result);
}

Napi::Value GetSockOptBufFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0, level = 0, name = 0, buflen = 0;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) ||
      !ArgInt(info, 2, &name) || !ArgInt(info, 3, &buflen)) {
    return info.Env().Undefined();
  }
  // CPython refuses buflen outside 1..1024 ("getsockopt buflen out of range").
  if (buflen <= 0 || buflen > 1024) return Result(info, -EINVAL);
  uint8_t value[1024];
  socklen_t length = static_cast<socklen_t>(buflen);
  int result = GetSockOpt(fd, level, name, value, &length);
  if (result < 0) return Result(info, result);
  return Napi::Buffer<uint8_t>::Copy(info.Env(), value, length);
}

// sendFds(fd, data, fds Int32Array, flags, addr Buffer | null, timeoutMs):
// bytes sent or -errno.
Napi::Value SendFdsFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0, flags = 0;
  uint8_t* data = nullptr;
  size_t length = 0;
  int32_t* fds = nullptr;
  size_t fd_count = 0;
  double timeout_ms = 0;
  if (!ArgInt(info, 0, &fd) || !ArgBytes(info, 1, &data, &length) ||
      !ArgInt32Array(info, 2, &fds, &fd_count) || !ArgInt(info, 3, &flags) ||
      !ArgDouble(info, 5, &timeout_ms)) {
    return info.Env().Undefined();
  }
  Sockaddr addr;
  bool has_addr = !info[4].IsNull() && !info[4].IsUndefined();
  if (has_addr && !ArgSockaddr(info, 4, &addr)) return info.Env().Undefined();
  return Result(info, SendFds(fd, data, length, fds, fd_count, flags,
                              has_addr ? &addr : nullptr, timeout_ms));
}

// recvFds(fd, buf, out Int32Array, flags, timeoutMs): [count, address] or
// -errno. out[0] gets the number of fds, out[1] the recvmsg flags and
// out[2..] the fds; its length - 2 is the most fds taken.
Napi::Value RecvFdsFn(const Napi::CallbackInfo& info) {
  int32_t fd = 0, flags = 0;
  uint8_t* data = nullptr;
  size_t length = 0;
  int32_t* out = nullptr;
  size_t out_length = 0;
  double timeout_ms = 0;
  if (!ArgInt(info, 0, &fd) || !ArgBytes(info, 1, &data, &length) ||
      !ArgInt32Array(info, 2, &out, &out_length) || !ArgInt(info, 3, &flags) ||
      !ArgDouble(info, 4, &timeout_ms)) {
    return info.Env().Undefined();
  }
  if (out_length < 2) return Result(info, -EINVAL);
  size_t fd_count = 0;
  int msg_flags = 0;
  Sockaddr from;
  ssize_t result = RecvFds(fd, data, length, out + 2, out_length - 2, &fd_count,
                           &msg_flags, flags, timeout_ms, &from);
  if (result < 0) return Result(info, result);
  // Received fds are this environment's, as accept()'s are.
  for (size_t i = 0; i < fd_count; ++i) Track(info, out[2 + i]);
  out[0] = static_cast<int32_t>(fd_count);
  out[1] = msg_flags;
  Napi::Value address =
      from.length > 0 ? AddressValue(info.Env(), from) : info.Env().Null();
  return Pair(info.Env(), static_cast<double>(result), address);
}

Napi::Value HasIpv6Fn(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), HasIpv6());
}

}  // namespace

void DefineSocketFunctions(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Value (*function)(const Napi::CallbackInfo&);
  };
  static const Entry entries[] = {
      {"socket", SocketFn},
      {"socketpair", SocketPairFn},
      {"resolve", ResolveFn},
      {"gaiStrerror", GaiStrerrorFn},
      {"bind", BindFn},
      {"listen", ListenFn},
      {"accept", AcceptFn},
      {"connect", ConnectFn},
      {"sendto", SendToFn},
      {"recvfrom", RecvFromFn},
      {"recvMany", RecvManyFn},
      {"sendMany", SendManyFn},
      {"shutdown", ShutdownFn},
      {"getsockname", NameFn<GetSockName>},
      {"getpeername", NameFn<GetPeerName>},
      {"setsockoptInt", SetSockOptIntFn},
      {"setsockoptBuf", SetSockOptBufFn},
      {"getsockoptInt", GetSockOptIntFn},
      {"getsockoptBuf", GetSockOptBufFn},
      {"hasIpv6", HasIpv6Fn},
      {"sendFds", SendFdsFn},
      {"recvFds", RecvFdsFn},
  };
  for (const Entry& entry : entries) {
    exports.Set(entry.name,
                Napi::Function::New(env, entry.function, entry.name));
  }
  struct RawEntry {
    const char* name;
    napi_callback function;
  };
  static const RawEntry raw_entries[] = {
      {"send", BytesCall<Send>},
      {"recv", BytesCall<Recv>},
      // recvWithin(fd, buf, flags, timeoutMs): RecvWithin(), for a socket
      // whose SO_RCVTIMEO bounds its blocking recv() to timeoutMs.
      {"recvWithin", BytesCall<RecvWithin>},
  };
  for (const RawEntry& entry : raw_entries) {
    napi_value function = nullptr;
    if (napi_create_function(env, entry.name, NAPI_AUTO_LENGTH, entry.function,
                             nullptr, &function) != napi_ok) {
      Napi::Error::New(env).ThrowAsJavaScriptException();
      return;
    }
    exports.Set(entry.name, Napi::Value(env, function));
  }
}

}  // namespace asyncore
