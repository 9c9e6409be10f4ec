#!/usr/bin/env bash
# Side-by-side benchmark: this proxy against HAProxy, nginx and YARP, all in front of the same
# nginx backend on loopback, plus HTTP/2 (h2load), mTLS between two sidecars, and the mesh (two
# sidecars across network namespaces against direct and two HAProxy hops; needs root). Installs what
# is missing, publishes the proxy, builds the YARP and gRPC peers, then runs bench/harness/bench.py.
# See docs/benchmarks.md.
#
#   ./run-bench.sh                 full run (3 rounds, 10 s per run)
#   ./run-bench.sh --smoke         1 round, 2 s per run (CI; a few minutes at most)
#   ./run-bench.sh --rounds N --duration S --only tcp|http1|startup|idleconns|http2|mtls|mesh (comma-separated)
#   ./run-bench.sh --no-build --only idleconns --proxy-before OLD_BINARY   (RSS per idle connection, old beside new)
#   ./run-bench.sh --no-build ...  skip setup, publish and the YARP build (harness work)
#
# Results: results/bench-<timestamp>.md, .json and .svg; the Markdown is also printed.
set -euo pipefail
cd "$(dirname "$0")"

build=1
args=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) exec python3 bench/harness/bench.py --help ;;
    *) args+=("$arg") ;;
  esac
done

# Every process the harness starts is written here; the trap ends any left (by pid, whole group).
# So is every network namespace the mesh scenario creates; the trap deletes any left, after the
# processes inside have ended (deleting a namespace also removes its veth pair and iptables rules).
pidfile=$(mktemp "${TMPDIR:-/tmp}/proxy-bench-pids.XXXXXX")
netnsfile=$(mktemp "${TMPDIR:-/tmp}/proxy-bench-netns.XXXXXX")
export BENCH_PIDFILE="$pidfile" BENCH_NETNS_FILE="$netnsfile"
cleanup() {
  local pid ns
  if [ -s "$pidfile" ]; then
    while read -r pid; do
      [ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null || true
    done <"$pidfile"
    sleep 0.5
    while read -r pid; do
      [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null || true
    done <"$pidfile"
  fi
  if [ -s "$netnsfile" ]; then
    while read -r ns; do
      [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null || true
    done <"$netnsfile"
  fi
  rm -f "$pidfile" "$netnsfile"
}
harness=""
# bash runs traps only between commands, so the harness runs in the background and we wait for it;
# a signal is passed on as SIGTERM (background jobs ignore SIGINT), which the harness turns into an
# orderly stop of everything it started.
on_signal() {
  if [ -n "$harness" ]; then
    kill -TERM "$harness" 2>/dev/null || true
    wait "$harness" 2>/dev/null || true
  fi
  exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

if [ "$build" -eq 1 ]; then
  scripts/setup.sh
  scripts/publish.sh
  log=$(mktemp)
  for peer in YarpPeer GrpcPeer; do
    if ! dotnet build "bench/$peer/$peer.csproj" -c Release -nologo -v quiet >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "run-bench: bench/$peer did not build" >&2
      exit 1
    fi
  done
  rm -f "$log"
  echo "run-bench: YARP and gRPC peers built"
fi

python3 -B bench/harness/bench.py "${args[@]}" &
harness=$!
status=0
wait "$harness" || status=$?
harness=""
exit "$status"
