#!/bin/sh
# Test recorder for the exec receiver: dumps its argv, environment (NUL-separated) and stdin into
# $REC_DIR/<pid>/, tracks how many runs overlap, then exits with $REC_EXIT (default 0).
d="$REC_DIR/run.$$"
mkdir -p "$d"
printf '%s\0' "$@" > "$d/argv"
env -0 > "$d/env"
cat > "$d/stdin"
mkdir "$REC_DIR/running.$$"
ls -d "$REC_DIR"/running.* | wc -l >> "$REC_DIR/concurrency"
if [ -n "$REC_SLEEP" ]; then sleep "$REC_SLEEP"; fi
rmdir "$REC_DIR/running.$$"
exit "${REC_EXIT:-0}"
