#!/bin/sh
# Builds and runs the libFuzzer targets native/fuzz/<name>_fuzz.cc with ASan and UBSan (any UB is a
# finding), seeded from the project's fixtures (native/fuzz/seeds.ts) with a dictionary per target.
# Usage: native/fuzz/run.sh [SECONDS] [NAME...]      each target for SECONDS (default 30)
#        FUZZ_RUNS=N native/fuzz/run.sh 0 [NAME...]   each target for N executions instead
# Inputs are at most FUZZ_MAX_LEN bytes (default 8192: a few records; the parsers are per record).
# Prints one summary line per target: runs, seconds, exec/s, coverage (edges), features, corpus.
# Findings land in build/fuzz/<name>-crash-* (and the run fails); make each one a regression input
# in native/fuzz/regressions/<name>/, which every run replays first.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-30}
[ $# -gt 0 ] && shift
out=build/fuzz
mkdir -p "$out"
bun=${BUN:-$(command -v bun || echo node_modules/.bin/bun)}
"$bun" native/fuzz/seeds.ts "$out/seeds" >/dev/null
targets=${*:-$(ls native/fuzz/*_fuzz.cc | sed 's,.*/,,; s,_fuzz\.cc$,,')}
status=0
for t in $targets; do
  src=native/fuzz/${t}_fuzz.cc
  # The target's own native/src/<t>*.cc and the pure helpers it needs (no N-API, no reader threads).
  libs=$(ls native/src/${t}*.cc 2>/dev/null | grep -v _reader || true)
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Inative/src "$src" $libs -o "$out/$t"
  if [ -d "native/fuzz/regressions/$t" ]; then
    "$out/$t" native/fuzz/regressions/$t/* >"$out/$t.regressions.log" 2>&1 || { echo "$t: a regression input fails again (see $out/$t.regressions.log)"; status=1; continue; }
  fi
  mkdir -p "$out/$t.corpus"
  if [ -n "${FUZZ_RUNS:-}" ]; then limit="-runs=$FUZZ_RUNS"; else limit="-max_total_time=$secs"; fi
  log="$out/$t.log"
  if ! UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$out/$t" $limit -max_len="${FUZZ_MAX_LEN:-8192}" -dict="native/fuzz/dict/$t.dict" \
      -print_final_stats=1 -artifact_prefix="$out/$t-" "$out/$t.corpus" "$out/seeds/$t" >"$log" 2>&1; then
    echo "$t: FINDING (see $log and $out/$t-crash-*)"
    tail -40 "$log"
    status=1
    continue
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
  cov=$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$done_line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
  corp=$(echo "$done_line" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
  echo "$t: ${runs} runs, ${rate} exec/s, cov ${cov} edges, ft ${ft}, corpus ${corp}"
done
exit $status
