#!/usr/bin/env bash
# Command (2): the whole test suite. Installs what is missing, builds with warnings as errors,
# publishes the native AOT binary (zero trim/AOT warnings), runs unit and end-to-end tests (the
# end-to-end tests include a smoke test of the published binary), a short fuzzing run of every parser, then a
# short smoke run of the benchmark harness. .ci/run calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/setup.sh
dotnet build Proxy.sln -c Release -nologo -v quiet
scripts/publish.sh

export PROXY_BINARY="$PWD/artifacts/publish/proxy"
results=$(mktemp)
status=0
for project in tests/Proxy.Core.Tests tests/Proxy.EndToEnd.Tests; do
  echo "== $project"
  if ! dotnet test "$project" -c Release --no-build -nologo --logger "console;verbosity=minimal" 2>&1 | tee -a "$results"; then
    status=1
  fi
done

# Fuzzing smoke (docs/fuzzing.md): every fuzz target for 18 s from the committed corpus, one per core at once (about 3 minutes with the
# harness build), failing on any crash, then the check that the same short run finds a planted bug.
echo "== fuzz smoke"
if ! scripts/fuzz.sh all --seconds 18 --ci; then
  echo "fuzz smoke: a target crashed or the planted bug was not found; inputs in artifacts/fuzz/crashes" >&2
  status=1
fi

# Benchmark harness smoke (no thresholds: it proves the harness works, the numbers are noise at
# this length): a short run-bench.sh and a dry BenchmarkDotNet job on a few hot-path benchmarks.
echo "== benchmark smoke"
if ! ./run-bench.sh --no-build --smoke > artifacts/bench-smoke.log 2>&1; then
  tail -40 artifacts/bench-smoke.log
  echo "benchmark smoke: run-bench.sh failed" >&2
  status=1
else
  tail -5 artifacts/bench-smoke.log
fi
if ! dotnet run -c Release --no-build --project bench/Proxy.Benchmarks -- \
    --filter '*Http1ParserBenchmarks*' '*RouteTableBenchmarks*' '*HPack*' '*PickerBenchmarks*' \
    --job dry --inProcess > artifacts/bdn-smoke.log 2>&1; then
  tail -40 artifacts/bdn-smoke.log
  echo "benchmark smoke: BenchmarkDotNet failed" >&2
  status=1
else
  grep -E "Global total time" artifacts/bdn-smoke.log || true
fi

# One closing line over both projects, in the plain "N passed, N failed" form.
sum() { grep -oE "$1: +[0-9]+" "$results" | awk '{ n += $2 } END { print n + 0 }'; }
passed=$(sum Passed)
failed=$(sum Failed)
skipped=$(sum Skipped)
rm -f "$results"
echo "tests finished in $(( $(date +%s) - start ))s"
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
if [ "${passed:-0}" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit $status
