#!/usr/bin/env bash
# Installs what building, testing and benchmarking need on a fresh Debian machine, and nothing
# that is already there. Safe to run again.
set -euo pipefail

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK (dotnet) is required and was not found on PATH" >&2
  exit 1
fi

# clang + zlib1g-dev: native AOT linking. curl/netcat: the demo's "try this" lines and tests.
# wrk, nghttp2-client (h2load, nghttp), haproxy, nginx: peers and load tools for run-bench.sh and
# end-to-end tests. iproute2/iptables: mesh interception tests.
# strace: run-bench.sh's system calls per request.
packages=(clang zlib1g-dev curl netcat-openbsd wrk nghttp2-client haproxy nginx iproute2 iptables strace)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian nginx and haproxy packages start system services; the benchmarks run their own
# instances on other ports, so the system ones are left alone.

# Envoy's v3 xDS API protos and their dependencies (udpa, xds, validate, googleapis), from the npm
# package that ships them, pinned. src/Proxy.Xds generates its C# from them at build time; nothing of
# them is committed (build/ is git-ignored).
xds_protos_version="1.14.1"
xds_protos_dir="build/xds-protos"
cd "$(dirname "$0")/.."
if [ "$(node -p "require('./$xds_protos_dir/node_modules/@grpc/grpc-js-xds/package.json').version" 2>/dev/null)" != "$xds_protos_version" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: installing npm (the xDS protos come from the npm registry)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  echo "setup: installing @grpc/grpc-js-xds@$xds_protos_version (xDS protos) under $xds_protos_dir"
  mkdir -p "$xds_protos_dir"
  npm install --prefix "$xds_protos_dir" --no-audit --no-fund --ignore-scripts --silent "@grpc/grpc-js-xds@$xds_protos_version"
fi

# Real gRPC clients and servers for the end-to-end tests (grpc-node), pinned by tests/node/package-lock.json.
# Reinstalled whenever the lock file differs from the one last installed (a stamp of its hash), so a checkout that
# pins something new gets it.
node_dir="$PWD/tests/node" # (the working directory is the repository root, see above)
node_lock_hash=$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1)
node_stamp="$node_dir/node_modules/.installed-lock-sha256"
if [ ! -d "$node_dir/node_modules/@grpc/grpc-js" ] || [ "$(cat "$node_stamp" 2>/dev/null)" != "$node_lock_hash" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: npm (Node.js 18 or newer) is required for the gRPC interop tests and was not found on PATH" >&2
    exit 1
  fi
  echo "setup: installing tests/node (npm ci)"
  npm ci --prefix "$node_dir" --no-audit --no-fund --loglevel=error >/dev/null
  echo "$node_lock_hash" > "$node_stamp"
fi
