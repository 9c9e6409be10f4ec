#!/usr/bin/env bash
# Publishes the native AOT binary to artifacts/publish/proxy. Trim and AOT warnings fail the build.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
# The commit `proxy version` names: "-dirty" when the tree has uncommitted changes, "unknown" outside git.
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && ! git diff --quiet HEAD -- 2>/dev/null; then
  commit="$commit-dirty"
fi
if ! dotnet publish src/Proxy.Host/Proxy.Host.csproj -c Release -r linux-x64 -o artifacts/publish -nologo -v quiet -p:SourceCommit="$commit" >"$log" 2>&1; then
  cat "$log" >&2
  echo "publish: failed" >&2
  exit 1
fi
if grep -E "warning (IL|CS|NU)[0-9]+" "$log" >&2; then
  echo "publish: trim/AOT/compiler warnings above; the build must be warning-free" >&2
  exit 1
fi
rm -f "$log"
echo "publish: artifacts/publish/proxy ($(du -h artifacts/publish/proxy | cut -f1))"
