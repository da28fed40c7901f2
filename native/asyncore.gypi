# The addon's one gyp target, included by binding.gyp. Paths here are
# relative to this directory. It lives in native/ because the published
# package ships native/ but no binding.gyp: npm 11 takes a package with a
# binding.gyp for one with an install script ("node-gyp rebuild") whenever it
# reads the package back from a lockfile, which does not keep "gypfile":
# false, and warns about it on the project's next install. native/build.cjs
# writes the binding.gyp a build from source needs (npm run build:native).
{
  "targets": [
    {
      "target_name": "asyncore",
      "sources": [
        "core/address.cc",
        "core/backend.cc",
        "core/epoll_backend.cc",
        "core/epoll_interest.cc",
        "core/fd_ops.cc",
        "core/poll_backend.cc",
        "core/reactor.cc",
        "core/select_backend.cc",
        "core/socket_ops.cc",
        "core/wakeup.cc",
        "binding/addon.cc",
        "binding/constants.cc",
        "binding/env_fds.cc",
        "binding/event_loop.cc",
        "binding/fd_functions.cc",
        "binding/waiter.cc",
        "binding/poller_wrap.cc",
        "binding/socket_functions.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags": ["-Wall", "-Wextra", "-Wpedantic", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-fvisibility=hidden"],
      "xcode_settings": {
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-Wall", "-Wextra", "-Wpedantic"]
      },
      "conditions": [
        ["OS=='linux'", {
          "ldflags": ["-pthread"]
        }]
      ]
    }
  ]
}
