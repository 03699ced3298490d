#!/usr/bin/env bash
# Builds and runs the libFuzzer targets: native/fuzz/<name>_fuzz.cc links native/src/<name>.cc.
# Usage: native/fuzz/run.sh [SECONDS=30] [NAME...]   (default: every *_fuzz.cc)
# Seeds: native/fuzz/seeds/<name>/ when present. Crashes land in build/fuzz/<name>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-30}"
shift || true
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in native/fuzz/*_fuzz.cc; do n="$(basename "$f" _fuzz.cc)"; names+=("$n"); done
fi
CXX="${CXX:-clang++}"
for n in "${names[@]}"; do
  out="build/fuzz/$n"
  mkdir -p "$out/corpus"
  "$CXX" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Inative/src \
    "native/fuzz/${n}_fuzz.cc" "native/src/$n.cc" -o "$out/fuzzer"
  seeds=()
  [ -d "native/fuzz/seeds/$n" ] && seeds=("native/fuzz/seeds/$n")
  echo "== $n: ${secs}s"
  (cd "$out" && ./fuzzer -max_total_time="$secs" -max_len=65536 -print_final_stats=1 corpus "${seeds[@]/#/../../../}")
done
