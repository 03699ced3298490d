#!/bin/sh
# umh test helper: writes its argv and environment (sorted) to a new file in $OUT.
f=$(mktemp "$OUT/run.XXXXXX")
{
  echo "argv: $*"
  env | LC_ALL=C sort
} > "$f"
[ -n "$SLEEP" ] && sleep "$SLEEP"
exit "${EXIT:-0}"
