#!/usr/bin/env bash
# Builds the N-API-free core test (native/test/core_test.cc) twice, under
# AddressSanitizer + UBSan and under ThreadSanitizer, and runs both. The
# core's worker thread, wake-ups and EINTR handling are checked here without
# Node around them.
set -euo pipefail
cd "$(dirname "$0")/.."

sources=(native/core/*.cc native/test/core_test.cc)
out=${TMPDIR:-/tmp}/asyncore-core-test
mkdir -p "$out"
flags=(-std=c++17 -g -O1 -Wall -Wextra -Wpedantic -Werror -pthread)

g++ "${flags[@]}" -fsanitize=address,undefined -fno-sanitize-recover=all \
  -fno-omit-frame-pointer "${sources[@]}" -o "$out/core_test_asan"
echo "core test, AddressSanitizer + UBSan:"
"$out/core_test_asan"

g++ "${flags[@]}" -fsanitize=thread "${sources[@]}" -o "$out/core_test_tsan"
echo "core test, ThreadSanitizer:"
TSAN_OPTIONS=halt_on_error=1 "$out/core_test_tsan"
