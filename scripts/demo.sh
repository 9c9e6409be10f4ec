#!/usr/bin/env bash
# Command (1): install what is missing, publish the native binary, run `proxy demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/publish.sh
exec artifacts/publish/proxy demo "$@"
