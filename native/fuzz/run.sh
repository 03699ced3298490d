#!/bin/sh
# Builds and runs the libFuzzer targets native/fuzz/<name>_fuzz.cc (clang++ with
# -fsanitize=fuzzer,address) for N seconds each. Usage: native/fuzz/run.sh [SECONDS] [NAME...]
# Seeds come from native/fuzz/corpus/<name>/ when present; findings land in build/fuzz/.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-30}
[ $# -gt 0 ] && shift
out=build/fuzz
mkdir -p "$out"
targets=${*:-$(ls native/fuzz/*_fuzz.cc | sed 's,.*/,,; s,_fuzz\.cc$,,')}
for t in $targets; do
  src=native/fuzz/${t}_fuzz.cc
  # The target's own native/src/<t>*.cc (pure code, no N-API) is compiled in.
  libs=$(ls native/src/${t}*.cc 2>/dev/null | grep -v _reader || true)
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Inative/src "$src" $libs -o "$out/$t"
  mkdir -p "$out/$t.corpus"
  seeds=native/fuzz/corpus/$t
  [ -d "$seeds" ] || seeds=
  echo "== $t: ${secs}s"
  "$out/$t" -max_total_time="$secs" -max_len=65536 -artifact_prefix="$out/$t-" "$out/$t.corpus" $seeds
done
