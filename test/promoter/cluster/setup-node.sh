#!/bin/bash
# Prepares one booted cluster node (test/cluster/cluster-up.sh) for the promoter scenarios:
# storeventd from the .deb (or binary + unit by hand when no .deb is given), the packaged promoter
# drop-in plus write access to the simulator directory /sim, drbd-utils' systemd templates and
# drbd-service-shim.sh from this host, the fake drbdsetup/drbdadm, a dummy app@RES.service that
# writes its node name to /sim/active.RES.NODE, a prober that writes the peers it can ping to
# /sim/reach.NODE, and the promoter config. Then it starts storeventd.
#   setup-node.sh NODE_DIR LEADER_PID CONFIG_FILE [DEB]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
root=$1/merged
leader=$2
config=$3
deb=${4:-}
X() { nsenter -t "$leader" -a "$@"; }

install -D -m 0755 "$HERE/drbdsetup" "$root/usr/sbin/drbdsetup"
install -D -m 0755 "$HERE/drbdadm" "$root/usr/sbin/drbdadm"
for f in /lib/systemd/system/drbd-promote@.service /lib/systemd/system/drbd-services@.target \
  /lib/systemd/system/drbd-demote-or-escalate@.service /lib/systemd/system/drbd@.service \
  /lib/systemd/system/drbd@.target /lib/systemd/system/ocf.ra@.service; do
  install -D -m 0644 "$f" "$root/usr/lib/systemd/system/$(basename "$f")"
done
install -D -m 0755 /lib/drbd/scripts/drbd-service-shim.sh "$root/usr/lib/drbd/scripts/drbd-service-shim.sh"

cat >"$root/etc/systemd/system/app@.service" <<'EOF'
[Unit]
Description=dummy HA application for resource %i (writes its node name where the test can see it)
[Service]
ExecStart=/bin/sh -c 'n=$(cat /etc/hostname); echo "$n" > /sim/active.%i.$n; exec sleep infinity'
ExecStopPost=/bin/sh -c 'rm -f /sim/active.%i.$(cat /etc/hostname)'
EOF

if [ -n "$deb" ]; then
  cp "$deb" "$root/root/storeventd.deb"
  X dpkg --force-unsafe-io -i /root/storeventd.deb >/dev/null
  X systemctl stop storeventd
else
  install -D -m 0755 "$REPO/dist/storeventd" "$root/usr/bin/storeventd"
  install -D -m 0644 "$REPO/packaging/storeventd.service" "$root/usr/lib/systemd/system/storeventd.service"
fi
install -D -m 0644 "$REPO/packaging/examples/promoter.conf" "$root/etc/systemd/system/storeventd.service.d/promoter.conf"
printf '[Service]\nReadWritePaths=/sim\n' >"$root/etc/systemd/system/storeventd.service.d/sim.conf"
install -D -m 0644 "$config" "$root/etc/storeventd/storeventd.toml"
# The simulator's eyes: from inside the node, ping every peer named in /etc/hosts, write who answered.
cat >"$root/usr/local/sbin/sim-probe" <<'PROBE'
#!/bin/sh
n=$(cat /etc/hostname)
peers=$(awk -v n="$n" '$2 != "localhost" && $2 != n { print $2 }' /etc/hosts)
last=""
while :; do
  heard=""
  for p in $peers; do ping -c1 -q -W0.5 "$p" >/dev/null 2>&1 && heard="$heard $p"; done
  # A peer is lost after two silent rounds in a row (one lost ping is no partition).
  echo "$heard $last" | tr ' ' '\n' | sort -u | tr '\n' ' ' >"/sim/reach.$n.tmp" && mv "/sim/reach.$n.tmp" "/sim/reach.$n"
  last=$heard
  sleep 0.2
done
PROBE
chmod 0755 "$root/usr/local/sbin/sim-probe"
X systemd-run --unit=sim-probe --quiet /usr/local/sbin/sim-probe
X systemctl daemon-reload
X systemctl start storeventd
