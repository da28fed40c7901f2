#!/usr/bin/env bash
# The sanitizer run: the core test under ASan/UBSan and TSan, then the whole
# vitest suite against an addon built with ASan + UBSan. Node itself is not
# instrumented, so the sanitizer runtimes are preloaded, and leak checking
# is off (Node does not free everything at exit by design).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/test-native.sh

# Build in a copy, so that build/ keeps the normal addon.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r binding.gyp native package.json "$work/"
ln -s "$root/node_modules" "$work/node_modules"
(
  cd "$work"
  CXXFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g" \
    LDFLAGS="-fsanitize=address,undefined" \
    npx --no-install node-gyp rebuild >/dev/null
)

echo "vitest suite, addon under AddressSanitizer + UBSan:"
ASYNCORE_NATIVE_PATH="$work/build/Release/asyncore.node" \
  LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)" \
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ASYNCORE_TEST_TIMEOUT_MULTIPLIER=4 \
  npx vitest run "$@"
