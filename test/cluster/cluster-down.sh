#!/bin/bash
# Stops nodes started by cluster-up.sh (same CLUSTER/WORK/NODES); removes the switch after the
# last node. KEEP_STATE=0 also deletes the nodes' overlays (their upper layers).
CACHE=${CACHE:-/var/tmp/storeventd-cluster}
CLUSTER=${CLUSTER:-sc}
WORK=${WORK:-$CACHE/$CLUSTER}
NODES=${NODES:-$(find "$WORK" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null)}
SW="${CLUSTER}sw"

for n in $NODES; do
  ns="$CLUSTER-$n"; d="$WORK/$n"
  np=$(cat "$d/nspawn.pid" 2>/dev/null) || np=""
  if [ -n "$np" ] && kill -0 "$np" 2>/dev/null; then
    kill -TERM "$np"                   # nspawn -> SIGRTMIN+3 -> clean poweroff
    for _ in $(seq 1 75); do kill -0 "$np" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$np" 2>/dev/null && kill -KILL "$np"
  fi
  rm -f "$d/nspawn.pid" "$d/leader.pid"
  # A KILLed nspawn leaves its container's processes (systemd and its services) running in the
  # node's cgroup: end them too, or they hold the overlay and the cgroup stays.
  for _ in $(seq 1 25); do
    left=$(cat /sys/fs/cgroup/systemd/nspawn-"$ns"/cgroup.procs /sys/fs/cgroup/systemd/nspawn-"$ns"/*/cgroup.procs \
      /sys/fs/cgroup/systemd/nspawn-"$ns"/*/*/cgroup.procs /sys/fs/cgroup/systemd/nspawn-"$ns"/*/*/*/cgroup.procs 2>/dev/null)
    [ -z "$left" ] && break
    # shellcheck disable=SC2086 # a list of PIDs
    kill -KILL $left 2>/dev/null
    sleep 0.2
  done
  mountpoint -q "$d/merged" 2>/dev/null && umount "$d/merged"
  for h in systemd unified; do
    [ -d "/sys/fs/cgroup/$h/nspawn-$ns" ] && find "/sys/fs/cgroup/$h/nspawn-$ns" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  ip netns del "$ns" 2>/dev/null
  [ "${KEEP_STATE:-1}" = 0 ] && rm -rf "$d"
done
if ip netns list | grep -qw "^$SW"; then
  ip netns list | grep -q "^$CLUSTER-" || ip netns del "$SW"
fi
[ "${KEEP_STATE:-1}" = 0 ] && rmdir "$WORK" 2>/dev/null
true
