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
#  4. installs it again as npm does by default: the package has no install
#     script (no install/preinstall/postinstall/prepare, "gypfile": false and
#     no binding.gyp, so npm adds no `node-gyp rebuild`), so npm prints no
#     warning, neither on that install nor on the project's next one, which
#     reads the package back from the lockfile; `npm install-scripts ls`
#     names nothing, the lockfile records no install script, and still
#     nothing compiles;
#  5. removes prebuilds/ from the tarball and installs that: nothing compiles
#     on install, and loading fails with an error that names the one
#     documented build command; that command compiles from source with the
#     local Node headers (an empty node-gyp devdir must stay empty: nothing
#     downloaded), and both consumers work with that build.
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
allowed='^package/(package\.json|README\.md|CHANGELOG\.md|LICENSE|dist/.+\.(js|mjs|d\.ts|d\.mts)|native/.+\.(cc|h)|native/asyncore\.gypi|native/build\.cjs|prebuilds/linux-(x64|arm64)/asyncore\.(glibc|musl)\.node)$'
unexpected="$(grep -vE "$allowed" "$work/files.txt" || true)"
[ -z "$unexpected" ] || fail "files outside the whitelist in the tarball: $unexpected"
for required in package.json README.md CHANGELOG.md LICENSE native/asyncore.gypi native/build.cjs native/core/reactor.cc \
  dist/index.js dist/index.mjs dist/index.d.ts dist/index.d.mts \
  dist/asynchat.js dist/asynchat.mjs dist/asynchat.d.ts dist/asynchat.d.mts; do
  grep -qx "package/$required" "$work/files.txt" || fail "$required is not in the tarball"
done
for target in "${targets[@]}"; do
  grep -qx "package/prebuilds/$target/asyncore.glibc.node" "$work/files.txt" ||
    fail "prebuilds/$target is not in the tarball"
done
! grep -qx 'package/binding.gyp' "$work/files.txt" || fail "binding.gyp is in the tarball: npm would take it for an install script"
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

# --- 4. install as npm does by default: no install script, no warning -------
# The published package.json must carry no script npm would run (or warn
# about) in a dependency, and no gypfile that would make npm add one.
node -e '
  const p = require(process.argv[1]);
  const bad = ["preinstall", "install", "postinstall", "prepare"].filter((k) => p.scripts && p.scripts[k]);
  if (bad.length) { console.error("install scripts in the package: " + bad.join(", ")); process.exit(1); }
  if (p.gypfile !== false) { console.error("gypfile is not false: npm would add node-gyp rebuild"); process.exit(1); }
' "$consumer/node_modules/asyncore/package.json" || fail "the packed package.json declares an install script"
consumer_scripts="$(new_consumer consumer-scripts)"
(cd "$consumer_scripts" && quiet install-with-scripts "${no_compiler[@]}" \
  npm install --foreground-scripts --no-audit --no-fund "$tarball")
sed 's/^/  | /' "$work/install-with-scripts.log"
if grep -iE '^npm warn|install-scripts|allowScripts|node-gyp|gyp info' "$work/install-with-scripts.log"; then
  fail "npm install printed an install-scripts warning or ran node-gyp"
fi
# The project's next install reads asyncore back from the lockfile, where npm
# would take a binding.gyp for an install script ("gypfile": false is not
# kept there); the package ships none, so neither that install nor
# `npm install-scripts ls` may name asyncore.
(cd "$consumer_scripts" && quiet install-again "${no_compiler[@]}" \
  npm install --no-audit --no-fund "${dev_tools[0]}")
sed 's/^/  | /' "$work/install-again.log"
if grep -iE '^npm warn|install-scripts|allowScripts' "$work/install-again.log"; then
  fail "the next npm install printed a warning"
fi
(cd "$consumer_scripts" && npm install-scripts ls > "$work/install-scripts-ls.log" 2>&1) || true
sed 's/^/  npm install-scripts ls: /' "$work/install-scripts-ls.log"
if grep -q 'asyncore' "$work/install-scripts-ls.log"; then
  fail "npm install-scripts ls names asyncore"
fi
node -e '
  const lock = require(process.argv[1]);
  const entry = lock.packages["node_modules/asyncore"];
  if (!entry) { console.error("asyncore is not in the lockfile"); process.exit(1); }
  if (entry.hasInstallScript) { console.error("the lockfile says asyncore has an install script"); process.exit(1); }
' "$consumer_scripts/package-lock.json" || fail "the lockfile records an install script for asyncore"
assert_no_compile "$consumer_scripts"
run_consumer "$consumer_scripts" prebuilds/linux-x64/asyncore.glibc.node "${no_compiler[@]}" node cjs.cjs
pass "npm install (npm $(npm --version), scripts allowed) and the next install: no warning, install-scripts ls names nothing, nothing compiled, the prebuild loads"

# --- 5. no prebuild: the documented from-source build -------------------------
mkdir -p "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked"
rm -rf "$work/unpacked/package/prebuilds"
source_tarball="$work/asyncore-without-prebuilds.tgz"
tar -czf "$source_tarball" -C "$work/unpacked" package

consumer_source="$(new_consumer consumer-source)"
(cd "$consumer_source" && quiet install-no-prebuilds "${no_compiler[@]}" \
  npm install --foreground-scripts --no-audit --no-fund "$source_tarball")
assert_no_compile "$consumer_source"
# The load error names the command README.md documents; run exactly that.
load_error="$(cd "$consumer_source" && node cjs.cjs 2>&1)" && fail "loaded with no prebuild and no build"
build_command="$(grep -oE 'npm explore asyncore -- npm run build:native' <<< "$load_error" | head -n 1)"
[ -n "$build_command" ] || { echo "$load_error" | head -n 5; fail "the load error names no build command"; }
grep -qF "$build_command" "$root/README.md" || fail "README.md does not document $build_command"
echo "$load_error" | grep -m1 '^Error: asyncore: cannot load the native addon' | sed 's/^/  /'
pass "without a prebuild: nothing compiled on install; the load error names \`$build_command\`"

# node-gyp keeps downloaded headers in its devdir: an empty one must stay so.
devdir="$work/node-gyp-devdir"
mkdir -p "$devdir"
# shellcheck disable=SC2086 # the command as the error printed it
(cd "$consumer_source" && quiet build-from-source env "npm_config_devdir=$devdir" $build_command)
grep -E 'gyp info (using node|using node-gyp)|nodedir' "$work/build-from-source.log" | sed 's/^/  /' | head -n 4
[ -z "$(ls -A "$devdir")" ] || fail "node-gyp downloaded into its devdir: $(ls -A "$devdir")"
[ -f "$consumer_source/node_modules/asyncore/build/Release/asyncore.node" ] ||
  fail "no build/Release/asyncore.node after $build_command"
[ ! -e "$consumer_source/node_modules/asyncore/binding.gyp" ] ||
  fail "$build_command left a binding.gyp behind (npm would take it for an install script)"
pass "$build_command compiled from source with the local headers (nothing downloaded)"
run_consumer "$consumer_source" build/Release/asyncore.node node esm.mjs
run_consumer "$consumer_source" build/Release/asyncore.node node cjs.cjs
pass "ESM and CommonJS consumers work on the from-source build"

echo "test-package: $passed passed, 0 failed"
