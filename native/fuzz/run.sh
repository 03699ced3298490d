#!/bin/sh
# Builds and runs libFuzzer targets: native/fuzz/run.sh [target ...] [-t seconds]
# Targets are native/fuzz/<target>_fuzz.cc; the default is every target, 30 s each.
# Needs clang (apt-get install -y clang). Build output and corpora go to $FUZZ_DIR (default /tmp).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../src"
secs=30
targets=""
while [ $# -gt 0 ]; do
  case "$1" in
    -t) secs="$2"; shift 2 ;;
    *) targets="$targets $1"; shift ;;
  esac
done
[ -n "$targets" ] || targets=$(cd "$here" && ls *_fuzz.cc | sed 's/_fuzz\.cc$//')
out="${FUZZ_DIR:-/tmp}/storeventd-fuzz"
mkdir -p "$out"
for t in $targets; do
  # The parser sources a target needs: <target>_*.cc plus what it names in FUZZ_SOURCES.
  srcs=$(ls "$src/${t}"_*.cc 2>/dev/null | grep -v '_reader\.cc$' || true)
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -I"$src" \
    "$here/${t}_fuzz.cc" $srcs -o "$out/${t}_fuzz"
  mkdir -p "$out/corpus-$t"
  [ -d "$here/corpus/$t" ] && cp -n "$here/corpus/$t"/* "$out/corpus-$t/" 2>/dev/null || true
  echo "== fuzzing $t for ${secs}s"
  "$out/${t}_fuzz" -max_total_time="$secs" -max_len=4096 "$out/corpus-$t"
done
