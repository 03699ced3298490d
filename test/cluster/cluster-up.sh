#!/bin/bash
# Boots N Debian containers with real systemd as PID 1 (systemd-nspawn), each on a copy-on-write
# overlay of the cached base root and in its own network namespace on a private bridge.
# Recipe and traps: /work/shared/notes/systemd-in-containers.md.
#
#   CLUSTER=pkg ALL_NODES="n1" test/cluster/cluster-up.sh     # one node
#   NODES=n2 test/cluster/cluster-up.sh                         # (re)start only n2, keeping its state
#   NSPAWN_ARGS="--bind-ro=/dev/kmsg" ...                       # the host kernel log inside (nspawn has none)
# Control a node:  nsenter -t "$(cat $WORK/n1/leader.pid)" -a systemctl status
# Machine names, netns and cgroups are prefixed with $CLUSTER so clusters can run side by side.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${CACHE:-/var/tmp/storeventd-cluster}
BASE=${BASE:-$CACHE/root}
CLUSTER=${CLUSTER:-sc}
WORK=${WORK:-$CACHE/$CLUSTER}
ALL_NODES=${ALL_NODES:-"n1 n2 n3"}   # fixes each node's address and /etc/hosts
NODES=${NODES:-$ALL_NODES}           # the ones to start now
SUBNET=${SUBNET:-10.77.0}            # only inside our own network namespaces
BOOT_TIMEOUT=${BOOT_TIMEOUT:-30}     # seconds per node
NSPAWN_ARGS=${NSPAWN_ARGS:-}         # extra nspawn options, e.g. "--bind-ro=/dev/kmsg"
SW="${CLUSTER}sw"

[[ $CLUSTER =~ ^[a-z0-9]{1,6}$ ]] || { echo "CLUSTER must be 1-6 of [a-z0-9]" >&2; exit 2; }
CACHE="$CACHE" BASE="$BASE" "$HERE/base.sh" >/dev/null
mkdir -p "$WORK"

if ! ip netns list | grep -qw "^$SW"; then   # the "switch": a bridge in its own netns
  ip netns add "$SW"
  ip -n "$SW" link add br0 type bridge
  ip -n "$SW" link set br0 up
fi
idx() { local i=0 m; for m in $ALL_NODES; do i=$((i+1)); [ "$m" = "$1" ] && echo $i; done; true; }

for n in $NODES; do
  i=$(idx "$n")
  [ -n "$i" ] || { echo "$n is not in ALL_NODES" >&2; exit 2; }
  ns="$CLUSTER-$n"; d="$WORK/$n"
  ip netns list | grep -qw "^$ns" && ip netns del "$ns"
  ip -n "$SW" link del "sw-$n" 2>/dev/null || true
  ip netns add "$ns"
  ip -n "$SW" link add "sw-$n" type veth peer name eth0 netns "$ns"
  ip -n "$SW" link set "sw-$n" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$SUBNET.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
  mkdir -p "$d"/{upper,work,merged}
  mountpoint -q "$d/merged" || mount -t overlay "ov-$ns" \
    -o "lowerdir=$BASE,upperdir=$d/upper,workdir=$d/work" "$d/merged"
  echo "$n" >"$d/merged/etc/hostname"
  [ -s "$d/upper/etc/machine-id" ] || systemd-id128 new >"$d/merged/etc/machine-id"
  { echo "127.0.0.1 localhost"; j=0; for m in $ALL_NODES; do j=$((j+1)); echo "$SUBNET.$j $m"; done; } >"$d/merged/etc/hosts"
  # nspawn --keep-unit puts itself and the container under the cgroup it runs in: one per node.
  for h in systemd unified; do mkdir -p "/sys/fs/cgroup/$h/nspawn-$ns"; done
  ( for h in systemd unified; do echo $BASHPID >"/sys/fs/cgroup/$h/nspawn-$ns/cgroup.procs"; done
    # shellcheck disable=SC2086 # NSPAWN_ARGS is a list of options
    exec setsid systemd-nspawn -D "$d/merged" -M "$ns" --boot --register=no --keep-unit \
      --network-namespace-path="/run/netns/$ns" --console=pipe $NSPAWN_ARGS </dev/null >"$d/console.log" 2>&1 ) &
  echo $! >"$d/nspawn.pid"
done

rc=0
for n in $NODES; do
  d="$WORK/$n"; np=$(cat "$d/nspawn.pid"); cp=""; st=""
  for _ in $(seq 1 $((BOOT_TIMEOUT * 5))); do
    kill -0 "$np" 2>/dev/null || break
    cp=$(pgrep -P "$np" -x systemd || true)
    if [ -n "$cp" ]; then
      st=$(nsenter -t "$cp" -a systemctl is-system-running 2>/dev/null || true)
      case "$st" in running | degraded) break ;; esac
    fi
    sleep 0.2
  done
  echo "$cp" >"$d/leader.pid"
  echo "$n: nspawn=$np leader=$cp state=$st"
  case "$st" in running | degraded) ;; *) rc=1; tail -5 "$d/console.log" >&2 ;; esac
done
exit $rc
