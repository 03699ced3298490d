// A simulated DRBD node that prints what `drbdsetup events2 --full` prints for it, byte for byte.
// Formats from drbd-utils user/v9/drbdsetup_events2.c (print_*_changes with opt_fullch, opt_statistics
// and opt_verbose=1, as `--full` sets them) and user/v9/drbdsetup.c (print_*_statistics):
//   resource:    role suspended force-io-failures write-ordering may_promote promotion_score
//   device:      backing_dev disk client open quorum size read written al-writes bm-writes upper-pending
//                lower-pending al-suspended [blocked, only when it changed or on exists/create]
//   connection:  connection role congested ap-in-flight rs-in-flight
//   peer-device: replication peer-disk peer-client resync-suspended [done] received sent out-of-sync
//                pending unacked [dbdt1 eta, only with resync details]
//   path:        local peer established
// Used by the fake drbdsetup fixtures, the model tests and the bench.

export interface SimPeerDevice {
  volume: number; replication: string; peerDisk: string; peerClient: boolean; resyncSuspended: string;
  received: number; sent: number; outOfSync: number; done?: number;
}
export interface SimConnection {
  peer: number; connName: string; connection: string; role: string; congested: boolean;
  local: string; remote: string; established: boolean; peerDevices: SimPeerDevice[];
}
export interface SimDevice {
  volume: number; minor: number; backingDev: string; disk: string; client: boolean; open: boolean; quorum: boolean;
  size: number; read: number; written: number; alWrites: number; bmWrites: number;
}
export interface SimResource {
  name: string; role: string; suspended: string; writeOrdering: string; mayPromote: boolean; promotionScore: number;
  devices: SimDevice[]; connections: SimConnection[];
}

const yn = (b: boolean) => (b ? "yes" : "no");

export function resourceLine(verb: string, r: SimResource): string {
  return `${verb} resource name:${r.name} role:${r.role} suspended:${r.suspended} force-io-failures:no ` +
    `write-ordering:${r.writeOrdering} may_promote:${yn(r.mayPromote)} promotion_score:${r.promotionScore}`;
}

export function deviceLine(verb: string, r: SimResource, d: SimDevice, blocked = verb !== "change"): string {
  return `${verb} device name:${r.name} volume:${d.volume} minor:${d.minor} backing_dev:${d.backingDev} ` +
    `disk:${d.disk} client:${yn(d.client)} open:${yn(d.open)} quorum:${yn(d.quorum)} size:${d.size} ` +
    `read:${d.read} written:${d.written} al-writes:${d.alWrites} bm-writes:${d.bmWrites} upper-pending:0 ` +
    `lower-pending:0 al-suspended:no${blocked ? " blocked:no" : ""}`;
}

export function connectionLine(verb: string, r: SimResource, c: SimConnection): string {
  return `${verb} connection name:${r.name} peer-node-id:${c.peer} conn-name:${c.connName} ` +
    `connection:${c.connection} role:${c.role} congested:${yn(c.congested)} ap-in-flight:0 rs-in-flight:0`;
}

export function peerDeviceLine(verb: string, r: SimResource, c: SimConnection, p: SimPeerDevice): string {
  const sync = p.done !== undefined;
  return `${verb} peer-device name:${r.name} peer-node-id:${c.peer} conn-name:${c.connName} volume:${p.volume} ` +
    `replication:${p.replication} peer-disk:${p.peerDisk} peer-client:${yn(p.peerClient)} ` +
    `resync-suspended:${p.resyncSuspended}${sync ? ` done:${p.done!.toFixed(2)}` : ""} received:${p.received} ` +
    `sent:${p.sent} out-of-sync:${p.outOfSync} pending:0 unacked:0${sync ? " dbdt1:12.34 eta:42" : ""}`;
}

export function pathLine(verb: string, r: SimResource, c: SimConnection): string {
  return `${verb} path name:${r.name} peer-node-id:${c.peer} conn-name:${c.connName} local:${c.local} ` +
    `peer:${c.remote} established:${yn(c.established)}`;
}

/** The lines drbdsetup prints for one resource in a dump (print_changes order). */
export function resourceDump(verb: string, r: SimResource): string[] {
  const out = [resourceLine(verb, r)];
  for (const c of r.connections) out.push(connectionLine(verb, r, c));
  for (const d of r.devices) out.push(deviceLine(verb, r, d));
  for (const c of r.connections) {
    for (const p of c.peerDevices) out.push(peerDeviceLine(verb, r, c, p));
    out.push(pathLine(verb, r, c));
  }
  return out;
}

export function destroyLines(r: SimResource): string[] {
  const out: string[] = [];
  for (const c of r.connections) {
    out.push(`destroy path name:${r.name} peer-node-id:${c.peer} conn-name:${c.connName} local:${c.local} peer:${c.remote}`);
    for (const p of c.peerDevices) {
      out.push(`destroy peer-device name:${r.name} peer-node-id:${c.peer} conn-name:${c.connName} volume:${p.volume}`);
    }
  }
  for (const c of r.connections) out.push(`destroy connection name:${r.name} peer-node-id:${c.peer} conn-name:${c.connName}`);
  for (const d of r.devices) out.push(`destroy device name:${r.name} volume:${d.volume}`);
  out.push(`destroy resource name:${r.name}`);
  return out;
}

/** A healthy resource: this node Secondary, `peers` peers connected and UpToDate. */
export function makeResource(name: string, minorBase: number, volumes: number, peers: string[], self = 0): SimResource {
  const devices: SimDevice[] = [];
  for (let v = 0; v < volumes; v++) {
    devices.push({
      volume: v, minor: minorBase + v, backingDev: `/dev/vg0/${name}_${v}`, disk: "UpToDate", client: false,
      open: false, quorum: true, size: 1048576 * (v + 1), read: 0, written: 0, alWrites: 0, bmWrites: 0,
    });
  }
  const connections: SimConnection[] = peers.map((peerName, i) => {
    const peer = i >= self ? i + 1 : i;
    return {
      peer, connName: peerName, connection: "Connected", role: "Secondary", congested: false,
      local: `ipv4:10.0.0.${self + 1}:${7000 + minorBase % 1000}`, remote: `ipv4:10.0.0.${peer + 1}:${7000 + minorBase % 1000}`,
      established: true,
      peerDevices: devices.map((d) => ({
        volume: d.volume, replication: "Established", peerDisk: "UpToDate", peerClient: false, resyncSuspended: "no",
        received: 0, sent: 0, outOfSync: 0,
      })),
    };
  });
  return {
    name, role: "Secondary", suspended: "no", writeOrdering: "flush", mayPromote: true, promotionScore: 10101 + volumes,
    devices, connections,
  };
}

/** A full initial dump: every resource's exists lines, then `exists -`. */
export function initialDump(resources: SimResource[]): string[] {
  const out: string[] = [];
  for (const r of resources) out.push(...resourceDump("exists", r));
  out.push("exists -");
  return out;
}

/** One statistics round (what `n` on stdin prints): changed devices and peer devices. */
export function statisticsRound(resources: SimResource[], step: number): string[] {
  const out: string[] = [];
  for (const r of resources) {
    for (const d of r.devices) {
      d.read += 4 * step;
      d.written += 8 * step;
      d.alWrites += step;
      out.push(deviceLine("change", r, d));
    }
    for (const c of r.connections) {
      for (const p of c.peerDevices) {
        p.sent += 8 * step;
        out.push(peerDeviceLine("change", r, c, p));
      }
    }
  }
  return out;
}
