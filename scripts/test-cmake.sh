#!/usr/bin/env bash
# Proves the cmake-js build (CMakeLists.txt) is the same addon as the
# node-gyp one: builds it, then runs the select and socket test files against
# it (npm run test:cmake); posix too, the other fd-level module.
#
#   ASYNCORE_SANITIZE=address,undefined bash scripts/test-cmake.sh
# builds with ASan/UBSan, runs the core test (native/test/core_test.cc) too,
# and runs the tests with the sanitizer runtime preloaded into Node.
#
# The tests load the addon through src/binding.ts, i.e. node-gyp-build on the
# package root, which takes build/Release/asyncore.node first. That build/ is
# the node-gyp build everyone else's tests use, so this script runs the tests
# in a temporary copy of the repository whose build/Release holds the
# cmake-js binary. It also exports ASYNCORE_NATIVE_PATH (the binary to load,
# README "Building from source"), for a binding.ts that honours it.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
sanitize="${ASYNCORE_SANITIZE:-}"
out="${ASYNCORE_CMAKE_OUT:-$root/build-cmake${sanitize:+-${sanitize//,/-}}}"
log() { echo "test-cmake: $*"; }

cd "$root"
cmake_args=(build --out "$out")
if [ -n "$sanitize" ]; then
  cmake_args+=(--CDASYNCORE_SANITIZE="$sanitize" --CDASYNCORE_CORE_TEST=ON)
fi
log "cmake-js ${cmake_args[*]}"
npx --no-install cmake-js "${cmake_args[@]}"
binary="$out/Release/asyncore.node"

# The sanitizer runtime has to be loaded before anything else in the process.
preload=""
if [ -n "$sanitize" ]; then
  case "$sanitize" in
    *address*) preload="$(c++ -print-file-name=libasan.so)" ;;
    *undefined*) preload="$(c++ -print-file-name=libubsan.so)" ;;
  esac
  log "core test under $sanitize"
  (cd "$out" && ctest --output-on-failure)
  # Node's own allocations are not ours to report; a sanitizer error aborts.
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
  export ASYNCORE_TEST_TIMEOUT_MULTIPLIER="${ASYNCORE_TEST_TIMEOUT_MULTIPLIER:-5}"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/asyncore-cmake-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# The sources and tests as they are now, without any binary of the tree.
tar -C "$root" -cf - --exclude=./node_modules --exclude=./build --exclude='./build-cmake*' \
  --exclude=./prebuilds --exclude=./dist --exclude=./.git . | tar -C "$work" -xf -
ln -s "$root/node_modules" "$work/node_modules"
mkdir -p "$work/build/Release"
cp "$binary" "$work/build/Release/asyncore.node"

# Make sure the tests will load that file and nothing else.
resolved="$(cd "$work" && node -p "require('node-gyp-build').resolve('.')")"
if [ "$resolved" != "$work/build/Release/asyncore.node" ]; then
  log "node-gyp-build would load $resolved, not the cmake-js build"
  exit 1
fi

mapfile -t tests < <(cd "$work" && ls test/select*.test.ts test/socket*.test.ts test/posix*.test.ts 2>/dev/null)
if [ ${#tests[@]} -eq 0 ]; then
  log "no test/select*, socket* or posix* test files to run"
  exit 1
fi
log "running ${tests[*]} against $binary"
cd "$work"
ASYNCORE_NATIVE_PATH="$work/build/Release/asyncore.node" LD_PRELOAD="$preload" \
  node node_modules/vitest/vitest.mjs run "${tests[@]}"
