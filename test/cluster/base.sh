#!/bin/bash
# Builds the cached base root for the nspawn test cluster once (about 2 minutes, 260 MB):
# a debootstrapped Debian bookworm with systemd as init. Never inside the repository.
# Concurrent callers wait on a lock; a finished root is marked by $CACHE/root.stamp.
set -euo pipefail
CACHE=${CACHE:-/var/tmp/storeventd-cluster}
BASE=${BASE:-$CACHE/root}
SUITE=${SUITE:-bookworm}
INCLUDE=${INCLUDE:-systemd,systemd-sysv,dbus,iproute2,iputils-ping,nftables,procps}
STAMP="$BASE.stamp"
want="$SUITE $INCLUDE"

mkdir -p "$CACHE"
exec 9>"$CACHE/base.lock"
flock 9
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  echo "base root ready: $BASE"
  exit 0
fi
if [ -d "$BASE" ] && grep -qE "lowerdir=${BASE}[,: ]" /proc/mounts; then
  # Another cluster runs on it: never pull the root from under its overlays.
  echo "base root $BASE is in use with another package set ($(cat "$STAMP" 2>/dev/null)); not rebuilding." >&2
  echo "Stop those nodes first, or use BASE=<another dir>." >&2
  exit 1
fi
for t in debootstrap systemd-nspawn; do
  command -v "$t" >/dev/null || { echo "missing $t: apt-get install -y debootstrap systemd-container" >&2; exit 1; }
done
rm -rf "$BASE" "$STAMP"
tmp="$BASE.partial"
rm -rf "$tmp"
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp" >"$CACHE/debootstrap.log" 2>&1 ||
  { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
# No getty on the (absent) console; a quiet, fast boot.
rm -f "$tmp/etc/systemd/system/getty.target.wants/"* 2>/dev/null || true
chroot "$tmp" apt-get clean
mv "$tmp" "$BASE"
echo "$want" >"$STAMP"
echo "base root built: $BASE ($(du -sm "$BASE" | cut -f1) MB)"
