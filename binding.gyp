{
  "targets": [
    {
      "target_name": "asyncore",
      "sources": [
        "native/core/address.cc",
        "native/core/backend.cc",
        "native/core/epoll_backend.cc",
        "native/core/epoll_interest.cc",
        "native/core/fd_ops.cc",
        "native/core/poll_backend.cc",
        "native/core/reactor.cc",
        "native/core/select_backend.cc",
        "native/core/socket_ops.cc",
        "native/core/wakeup.cc",
        "native/binding/addon.cc",
        "native/binding/constants.cc",
        "native/binding/env_fds.cc",
        "native/binding/fd_functions.cc",
        "native/binding/waiter.cc",
        "native/binding/poller_wrap.cc",
        "native/binding/socket_functions.cc"
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
