#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers (docs/fuzzing.md): SharpFuzz instruments the published Proxy.Core.dll (the
# library, not the harness) and AFL++ runs a target in SharpFuzz's out-of-process mode, so a hang or a FailFast is
# saved as a finding instead of ending the run.
#
#   scripts/fuzz.sh TARGET [--minutes N | --seconds N] [--resume] [--no-build]
#   scripts/fuzz.sh all --seconds 20 --ci      what scripts/test.sh runs: every target briefly from the committed
#                                              corpus (one per core at once), then the planted-bug check; fails on
#                                              any crash
#   scripts/fuzz.sh list                       the targets
#   scripts/fuzz.sh repro TARGET FILE          replays one input outside AFL++ and prints what it throws
#
# Installs what it needs: AFL++ (Debian package afl++) and the SharpFuzz.CommandLine tool into artifacts/fuzz/tools.
# Findings go to artifacts/fuzz/out/TARGET (AFL++'s layout); crashing inputs are copied to artifacts/fuzz/crashes/TARGET.
# A crash, once fixed, becomes a regression input under tests/Proxy.Core.Tests/TestData/fuzz/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."

SHARPFUZZ_VERSION=2.3.0
work=artifacts/fuzz
bin=$work/bin
tools=$work/tools

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

target=${1:-}
[ -n "$target" ] || usage
shift

seconds=600
ci=0
resume=0
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) seconds=$(( $2 * 60 )); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --ci) ci=1; shift ;;
    --resume) resume=1; shift ;;
    --no-build) build=0; shift ;;
    *) [ "$target" = repro ] && break; usage ;;
  esac
done

install_tools() {
  if ! command -v afl-fuzz > /dev/null; then
    echo "fuzz: installing AFL++ (apt package afl++)"
    apt-get update -qq > /dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ > /dev/null
  fi

  if [ ! -x "$tools/sharpfuzz" ]; then
    echo "fuzz: installing SharpFuzz.CommandLine $SHARPFUZZ_VERSION into $tools"
    dotnet tool install SharpFuzz.CommandLine --version "$SHARPFUZZ_VERSION" --tool-path "$tools" > /dev/null
  fi
}

# Publishes the harness into a fresh folder and instruments the library in it: Proxy.Core.dll, and of Proxy.Xds.dll
# only its translators (namespace Proxy.Xds.Translation). Coverage of the harness, the BCL, YamlDotNet or the
# generated protobuf code would only add noise to what AFL++ optimises for.
build_harness() {
  rm -rf "$bin"
  dotnet publish fuzz/Proxy.Fuzz -c Release -o "$bin" -nologo -v quiet
  "$tools/sharpfuzz" "$bin/Proxy.Core.dll"
  "$tools/sharpfuzz" "$bin/Proxy.Xds.dll" Proxy.Xds.Translation
  echo "fuzz: instrumented $bin/Proxy.Core.dll and the translators in $bin/Proxy.Xds.dll"
}

# The committed seed corpus and dictionary of a target (a copy shares its original's).
corpus_of() {
  case "$1" in
    planted-bug) echo http1-request ;;
    *) echo "$1" ;;
  esac
}

dict_of() {
  case "$1" in
    http1-request | http1-response | http1-differential | planted-bug) echo fuzz/dict/http1.dict ;;
    h2-frames | h2-connection) echo fuzz/dict/h2.dict ;;
    *) [ -f "fuzz/dict/$1.dict" ] && echo "fuzz/dict/$1.dict" ;;
  esac
}

stat_of() { grep -E "^$1 *:" "$2" | sed 's/^[^:]*: *//'; }

# Runs one target for $2 seconds and prints one summary line. Sets `crashes` to the number of crashing inputs
# saved; returns non-zero only when afl-fuzz could not run at all.
run_target() {
  local name=$1 duration=$2 out=$work/out/$1 log=$work/out/$1.log
  local input="fuzz/corpus/$(corpus_of "$name")"
  local dict timeout=2000
  dict=$(dict_of "$name" || true)
  [ "$name" = h2-connection ] && timeout=12000
  mkdir -p "$work/out"
  if [ $resume = 1 ] && [ -d "$out/default" ]; then
    input=-
  else
    rm -rf "$out"
  fi

  # AFL_SKIP_BIN_CHECK: the program is dotnet, not an AFL-compiled binary. AFL_NO_AFFINITY: the machine is shared,
  # no core is ours to pin. AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES: core dumps go wherever the host sends them.
  # DOTNET_PROCESSOR_COUNT=1: one afl-fuzz is one core, and the harness then keeps its thread pool to one thread, so
  # an async target runs in a repeatable order (Program.cs).
  local -a args=(-i "$input" -o "$out" -m none -t "$timeout" -V "$duration")
  [ -n "$dict" ] && args+=(-x "$dict")
  set +e
  DOTNET_PROCESSOR_COUNT=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_FORKSRV_INIT_TMOUT=60000 AFL_FAST_CAL=1 AFL_BENCH_UNTIL_CRASH=${STOP_ON_CRASH:-} \
    afl-fuzz "${args[@]}" -- dotnet "$bin/Proxy.Fuzz.dll" "$name" > "$log" 2>&1
  local status=$?
  set -e

  local stats=$out/default/fuzzer_stats
  if [ ! -f "$stats" ]; then
    echo "fuzz: $name: afl-fuzz did not start (exit $status); the end of $log:" >&2
    tail -25 "$log" >&2
    return 1
  fi

  local hangs
  crashes=$(stat_of saved_crashes "$stats")
  hangs=$(stat_of saved_hangs "$stats")
  printf 'fuzz: %-20s %6ss  execs %9s  execs/s %8s  corpus %5s  edges %5s  crashes %s  hangs %s\n' "$name" \
    "$(stat_of run_time "$stats")" "$(stat_of execs_done "$stats")" "$(stat_of execs_per_sec "$stats")" \
    "$(stat_of corpus_count "$stats")" "$(stat_of edges_found "$stats")" "$crashes" "$hangs"

  if [ "$crashes" -gt 0 ]; then
    mkdir -p "$work/crashes/$name"
    cp "$out"/default/crashes/id:* "$work/crashes/$name/"
    if [ "${EXPECT_CRASH:-}" != 1 ]; then
      local first
      first=$(ls "$out"/default/crashes/id:* | head -1)
      echo "fuzz: $name: $crashes crashing input(s) in $work/crashes/$name; the first one replayed:" >&2
      repro "$name" "$first" 2>&1 | head -30 >&2 || true
    fi
  fi

  return 0
}

repro() {
  dotnet "$bin/Proxy.Fuzz.dll" "$1" < "$2"
}

case "$target" in
  list)
    [ -f "$bin/Proxy.Fuzz.dll" ] || { install_tools; build_harness; }
    dotnet "$bin/Proxy.Fuzz.dll" --list
    exit 0
    ;;
  repro)
    [ $# -ge 2 ] || usage
    [ -f "$bin/Proxy.Fuzz.dll" ] || { install_tools; build_harness; }
    repro "$1" "$2"
    exit $?
    ;;
esac

install_tools
[ $build = 1 ] && build_harness

if [ "$target" != all ]; then
  [ -d "fuzz/corpus/$(corpus_of "$target")" ] || { echo "fuzz: no target '$target' (scripts/fuzz.sh list)" >&2; exit 2; }
  run_target "$target" "$seconds" || exit 1
  [ "$crashes" -eq 0 ] || exit 1
  exit 0
fi

# Every target, as many at once as there are cores (FUZZ_JOBS overrides; each afl-fuzz is one process on one core),
# then the check that the setup finds a planted bug from the committed corpus.
status=0
start=$(date +%s)
jobs=${FUZZ_JOBS:-$(nproc)}
verdicts=$(mktemp -d)
running=0
for name in $(ls fuzz/corpus); do
  # A background run cannot set `crashes` here: each writes its verdict (crash count, or "failed") to a file.
  ( if run_target "$name" "$seconds"; then echo "$crashes" > "$verdicts/$name"; else echo failed > "$verdicts/$name"; fi ) &
  running=$(( running + 1 ))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$(( running - 1 ))
  fi
done
wait
for name in $(ls fuzz/corpus); do
  [ "$(cat "$verdicts/$name" 2>/dev/null || echo failed)" = 0 ] || status=1
done
rm -rf "$verdicts"

if [ $ci = 1 ]; then
  # The planted bug (fuzz/Proxy.Fuzz/Targets/PlantedBugTarget.cs) must be found, or the short runs prove nothing.
  if ! PROXY_FUZZ_PLANTED_BUG=1 EXPECT_CRASH=1 STOP_ON_CRASH=1 run_target planted-bug $(( seconds * 4 )); then
    status=1
  elif [ "$crashes" -eq 0 ]; then
    echo "fuzz: the planted bug was NOT found: the short runs cannot be trusted to find real ones" >&2
    status=1
  else
    echo "fuzz: the planted bug was found, as it must be ($(head -c 300 "$(ls "$work"/crashes/planted-bug/id:* | head -1)" | tr -c '[:print:]' '.' | head -c 80)...)"
  fi
fi

echo "fuzz: finished in $(( $(date +%s) - start ))s"
exit $status
