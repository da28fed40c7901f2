#!/usr/bin/env bash
# Tests the package the way users get it (npm run test:package):
#
#  1. builds dist/ and the prebuilds (linux-x64, and linux-arm64 with the
#     Debian cross compiler: scripts/setup-cross.sh), then `npm pack`, whose
#     "prepack" (scripts/check-prebuilds.mjs) must accept the prebuilds;
#  2. checks the tarball holds the "files" whitelist and nothing else, and
#     prints its size and file list;
#  3. installs it into an empty project with --ignore-scripts while every
#     compiler and make on PATH is a tripwire that logs its use and fails;
#     the install must not have tried to compile (no tripwire call, no
#     build/), and from there an ES module and a CommonJS consumer run an echo
#     exchange through dispatcher, loading the prebuild; the arm64 Node runs
#     the ES module consumer under qemu, loading the arm64 prebuild; tsc
#     type-checks a consumer under moduleResolution node16, nodenext, bundler;
#  4. installs it again with install scripts on (npm's default today): the
#     prebuild is found and still nothing compiles;
#  5. removes prebuilds/ from the tarball and installs that: node-gyp-build's
#     install script compiles from source with the local Node headers (an
#     empty node-gyp devdir must stay empty: nothing downloaded), and both
#     consumers work with that build.
#
# Environment: ASYNCORE_SKIP_ARM64=1 builds and checks linux-x64 only;
# ASYNCORE_USE_EXISTING_PREBUILDS=1 packs the prebuilds/ already there (the
# release pipeline's, from every platform's job; ASYNCORE_PREBUILD_TARGETS
# must then name them); ASYNCORE_KEEP_WORK=1 keeps the temporary directory for
# a post-mortem.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/asyncore-package-test.XXXXXX")"
if [ "${ASYNCORE_KEEP_WORK:-0}" = 1 ]; then
  trap 'echo "test-package: work directory kept: $work"' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi

passed=0
log() { echo "test-package: $*"; }
pass() { passed=$((passed + 1)); log "ok - $*"; }
fail() {
  log "FAIL - $*"
  echo "test-package: $passed passed, 1 failed"
  exit 1
}
# Runs a command with its output in a log file, shown only when it fails.
quiet() {
  local name="$1"; shift
  if ! "$@" > "$work/$name.log" 2>&1; then
    tail -n 60 "$work/$name.log"
    fail "$name: $*"
  fi
}

cd "$root"
host_target="linux-$(node -p process.arch)"
targets=("$host_target")
if [ "${ASYNCORE_SKIP_ARM64:-0}" != 1 ] && [ "$host_target" = linux-x64 ]; then
  eval "$(bash scripts/setup-cross.sh)"
  targets+=(linux-arm64)
fi
if [ "${ASYNCORE_USE_EXISTING_PREBUILDS:-0}" = 1 ]; then
  # Binaries that this machine cannot run (musl) were loaded by their own job.
  : "${ASYNCORE_PREBUILD_TARGETS:?names the prebuilds to pack}"
  export ASYNCORE_PREBUILD_TARGETS
else
  # What prepack must find and load; strict: one it cannot load is an error.
  ASYNCORE_PREBUILD_TARGETS="$(printf '%s-glibc,' "${targets[@]}")"
  export ASYNCORE_PREBUILD_TARGETS="${ASYNCORE_PREBUILD_TARGETS%,}"
  export ASYNCORE_PREBUILD_STRICT=1
fi

# The from-source fallback must use the local Node headers the way npm is set
# up on this machine (nodedir in ~/.npmrc); if it is not, point at the
# headers next to this Node rather than let node-gyp download them.
node_prefix="$(cd "$(dirname "$(command -v node)")/.." && pwd)"
if [ -z "$(npm config get nodedir 2>/dev/null | grep -v '^undefined$' || true)" ] &&
  [ -f "$node_prefix/include/node/node_api.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi

# --- 1. build and pack -------------------------------------------------------
quiet build-ts npm run build:ts
if [ "${ASYNCORE_USE_EXISTING_PREBUILDS:-0}" != 1 ]; then
  quiet prebuild npm run build:prebuilds -- "${targets[@]}"
fi
quiet pack npm pack --pack-destination "$work"
tarball="$(ls "$work"/asyncore-*.tgz)"
grep -E 'check-prebuilds' "$work/pack.log" | sed 's/^/  /'
pass "npm pack, prepack accepted ${ASYNCORE_PREBUILD_TARGETS}"

# --- 2. the tarball's contents -----------------------------------------------
log "tarball $(basename "$tarball"): $(stat -c %s "$tarball") bytes"
grep -E 'npm notice (package size|unpacked size|total files)' "$work/pack.log" | sed 's/^npm notice /  /'
tar -tvzf "$tarball" | awk '{ printf "  %9s  %s\n", $3, $6 }' | sort -k2
tar -tzf "$tarball" | sort > "$work/files.txt"
allowed='^package/(package\.json|README\.md|LICENSE|binding\.gyp|dist/.+\.(js|mjs|d\.ts|d\.mts)|native/.+\.(cc|h)|prebuilds/linux-(x64|arm64)/asyncore\.(glibc|musl)\.node)$'
unexpected="$(grep -vE "$allowed" "$work/files.txt" || true)"
[ -z "$unexpected" ] || fail "files outside the whitelist in the tarball: $unexpected"
for required in package.json README.md LICENSE binding.gyp native/core/reactor.cc \
  dist/index.js dist/index.mjs dist/index.d.ts dist/index.d.mts \
  dist/asynchat.js dist/asynchat.mjs dist/asynchat.d.ts dist/asynchat.d.mts; do
  grep -qx "package/$required" "$work/files.txt" || fail "$required is not in the tarball"
done
for target in "${targets[@]}"; do
  grep -qx "package/prebuilds/$target/asyncore.glibc.node" "$work/files.txt" ||
    fail "prebuilds/$target is not in the tarball"
done
pass "tarball holds the whitelist ($(wc -l < "$work/files.txt") files) and nothing else"

# --- 3. install without scripts and without a compiler -----------------------
# Tripwires that shadow every compiler and make: any call is logged and fails.
tripwires="$work/tripwires"
mkdir -p "$tripwires"
for tool in cc gcc c++ g++ clang clang++ make gmake cmake ninja \
  aarch64-linux-gnu-gcc aarch64-linux-gnu-g++; do
  printf '#!/bin/sh\necho "%s $*" >> "%s"\nexit 1\n' "$tool" "$work/compiler-calls.log" > "$tripwires/$tool"
  chmod +x "$tripwires/$tool"
done
no_compiler=(env "PATH=$tripwires:$PATH" "CC=$tripwires/cc" "CXX=$tripwires/c++")

# The consumer's TypeScript: the versions this repository is tested with.
dev_tools=(
  "typescript@$(node -p "require('./node_modules/typescript/package.json').version")"
  "@types/node@$(node -p "require('./node_modules/@types/node/package.json').version")"
)

new_consumer() {
  local dir="$work/$1"
  mkdir -p "$dir"
  cp "$root"/test/package/{package.json,echo.cjs,esm.mjs,cjs.cjs} "$root"/test/package/tsconfig.*.json "$dir/"
  cp "$root/test/package/types.ts.in" "$dir/types.ts"
  cp "$root/test/package/types.cts.in" "$dir/types.cts"
  echo "$dir"
}

# Checks that nothing compiled: no tripwire was called, no build/ was made.
assert_no_compile() {
  local dir="$1"
  if [ -s "$work/compiler-calls.log" ]; then
    sed 's/^/  /' "$work/compiler-calls.log"
    fail "the install tried to compile"
  fi
  [ ! -e "$dir/node_modules/asyncore/build" ] || fail "the install made node_modules/asyncore/build"
}

# Runs a consumer and checks which binary it loaded.
run_consumer() {
  local dir="$1" expect="$2"; shift 2
  local out
  out="$(cd "$dir" && "$@" 2>&1)" || { echo "$out"; fail "$* in $(basename "$dir")"; }
  echo "$out" | sed 's/^/  /'
  echo "$out" | grep -q "loaded .*/node_modules/asyncore/$expect" ||
    fail "$* did not load node_modules/asyncore/$expect"
}

consumer="$(new_consumer consumer)"
(cd "$consumer" && quiet install-ignore-scripts "${no_compiler[@]}" \
  npm install --ignore-scripts --no-audit --no-fund "$tarball" "${dev_tools[@]}")
assert_no_compile "$consumer"
pass "npm install --ignore-scripts with no compiler on PATH: nothing compiled"

run_consumer "$consumer" prebuilds/linux-x64/asyncore.glibc.node "${no_compiler[@]}" node esm.mjs
pass "ESM consumer: echo exchange through dispatcher (select, poll, epoll) on the x64 prebuild"
run_consumer "$consumer" prebuilds/linux-x64/asyncore.glibc.node "${no_compiler[@]}" node cjs.cjs
pass "CommonJS consumer: echo exchange through dispatcher on the x64 prebuild"

if [ -n "${ASYNCORE_NODE_ARM64:-}" ]; then
  # shellcheck disable=SC2086 # the runner is a command line: qemu, its options, node
  run_consumer "$consumer" prebuilds/linux-arm64/asyncore.glibc.node $ASYNCORE_NODE_ARM64 esm.mjs
  pass "ESM consumer on arm64 Node under qemu: echo exchange on the arm64 prebuild"
fi

for resolution in node16 nodenext bundler; do
  (cd "$consumer" && quiet "tsc-$resolution" node node_modules/typescript/bin/tsc -p "tsconfig.$resolution.json")
  pass "tsc type-checks the consumer under moduleResolution $resolution"
done

# --- 4. install with install scripts on, still no compiler -------------------
consumer_scripts="$(new_consumer consumer-scripts)"
(cd "$consumer_scripts" && quiet install-with-scripts "${no_compiler[@]}" \
  npm install --foreground-scripts --no-audit --no-fund "$tarball")
assert_no_compile "$consumer_scripts"
run_consumer "$consumer_scripts" prebuilds/linux-x64/asyncore.glibc.node "${no_compiler[@]}" node cjs.cjs
pass "npm install with scripts on and no compiler: node-gyp-build found the prebuild"

# --- 5. no prebuild: compile from source --------------------------------------
mkdir -p "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked"
rm -rf "$work/unpacked/package/prebuilds"
source_tarball="$work/asyncore-without-prebuilds.tgz"
tar -czf "$source_tarball" -C "$work/unpacked" package

# node-gyp keeps downloaded headers in its devdir: an empty one must stay so.
devdir="$work/node-gyp-devdir"
mkdir -p "$devdir"
consumer_source="$(new_consumer consumer-source)"
(cd "$consumer_source" && quiet install-from-source env "npm_config_devdir=$devdir" \
  npm install --foreground-scripts --no-audit --no-fund "$source_tarball")
grep -E 'gyp info (using node|using node-gyp)|nodedir' "$work/install-from-source.log" | sed 's/^/  /' | head -n 4
[ -z "$(ls -A "$devdir")" ] || fail "node-gyp downloaded into its devdir: $(ls -A "$devdir")"
[ -f "$consumer_source/node_modules/asyncore/build/Release/asyncore.node" ] ||
  fail "no build/Release/asyncore.node after the from-source install"
pass "install without prebuilds compiled from source with the local headers (nothing downloaded)"
run_consumer "$consumer_source" build/Release/asyncore.node node esm.mjs
run_consumer "$consumer_source" build/Release/asyncore.node node cjs.cjs
pass "ESM and CommonJS consumers work on the from-source build"

echo "test-package: $passed passed, 0 failed"
