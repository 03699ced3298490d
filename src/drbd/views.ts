// The model rendered as drbdsetup renders it: status --json and status (text).
import type { DrbdConnection, DrbdResource } from "./state.ts";
import { RESYNC } from "./appliers.ts";

// ---- drbdsetup status --json (user/v9/drbdsetup.c resource_status_json & co) --------------------

export function susp(r: DrbdResource, what: string): boolean {
  return r.suspended.split(",").includes(what);
}

/** drbdsetup lists connections sorted by name (sort_connections: strcmp, unnamed ones first), not node id. */
export function byConnName(r: DrbdResource): DrbdConnection[] {
  return [...r.connections.values()].sort((a, b) =>
    !a.connName !== !b.connName ? (a.connName ? 1 : -1) : a.connName < b.connName ? -1 : a.connName > b.connName ? 1 : 0);
}

export function address(s: string): Record<string, unknown> {
  // events2 prints ipv4:10.0.0.1:7789 / ipv6:[fe80::1]:7789 (address_str)
  const m = /^([a-z0-9_]+):(.*):(\d+)$/.exec(s);
  if (!m) return { address: s, port: 0, family: "" };
  const addr = m[2]!.startsWith("[") && m[2]!.endsWith("]") ? m[2]!.slice(1, -1) : m[2]!;
  return { address: addr, port: Number(m[3]), family: m[1] };
}

export function resourceJson(r: DrbdResource): Record<string, unknown> {
  const devices = [...r.devices.values()].sort((a, b) => a.volume - b.volume);
  return {
    name: r.name,
    "node-id": -1, // events2 does not print it (drbdsetup prints -1 when unknown too)
    role: r.role,
    suspended: r.suspended !== "no",
    "suspended-user": susp(r, "user"),
    "suspended-no-data": susp(r, "no-data"),
    "suspended-fencing": susp(r, "fencing"),
    "suspended-quorum": susp(r, "quorum"),
    "force-io-failures": r.forceIoFailures,
    "write-ordering": r.writeOrdering,
    devices: devices.map((d) => ({
      volume: d.volume,
      minor: d.minor,
      "disk-state": d.disk,
      client: d.client,
      open: d.open,
      quorum: d.quorum,
      size: d.size,
      read: d.read,
      written: d.written,
      "al-writes": d.alWrites,
      "bm-writes": d.bmWrites,
      "upper-pending": d.upperPending,
      "lower-pending": d.lowerPending,
    })),
    connections: byConnName(r).map((c) => ({
      "peer-node-id": c.peerNodeId,
      name: c.connName,
      "connection-state": c.connection,
      congested: c.congested,
      "peer-role": c.peerRole,
      tls: false,
      "ap-in-flight": c.apInFlight,
      "rs-in-flight": c.rsInFlight,
      paths: [...c.paths.values()].map((p) => ({
        this_host: address(p.local),
        remote_host: address(p.peer),
        established: p.established,
      })),
      peer_devices: [...c.peerDevices.values()].sort((a, b) => a.volume - b.volume).map((p) => {
        const size = r.devices.get(p.volume)?.size ?? 0;
        const o: Record<string, unknown> = {
          volume: p.volume,
          "replication-state": p.replication,
          "peer-disk-state": p.peerDisk,
          "peer-client": p.peerClient,
          "resync-suspended": p.resyncSuspended,
          received: p.received,
          sent: p.sent,
          "out-of-sync": p.outOfSync,
          pending: p.pending,
          unacked: p.unacked,
          "has-sync-details": false,
          "has-online-verify-details": false,
          "percent-in-sync": size === 0 ? 0 : Math.round(10000 * (1 - p.outOfSync / size)) / 100,
        };
        if (RESYNC.has(p.replication)) {
          o["percent-resync-done"] = round2(p.done ?? (size === 0 ? 0 : 100 * (1 - p.outOfSync / size)));
        }
        return o;
      }),
    })),
  };
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

// ---- drbdsetup status (text): device_status/connection_status/peer_device_status of drbdsetup.c, ----
// ---- not verbose, stdout not a tty (so client: is shown for Diskless) ------------------------------

export function resourceText(r: DrbdResource): string {
  const lines: string[] = [];
  let head = `${r.name} role:${r.role}`;
  if (r.suspended !== "no") head += ` suspended:${r.suspended}`;
  if (r.forceIoFailures) head += " force-io-failures:yes";
  lines.push(head);
  const devices = [...r.devices.values()].sort((a, b) => a.volume - b.volume);
  const single = devices.length === 1;
  for (const d of devices) {
    const vol = single && d.volume === 0 ? "  " : `  volume:${d.volume} `;
    let s = `${vol}disk:${d.disk}`;
    if (d.disk === "Diskless") s += ` client:${d.client ? "yes" : "no"}`;
    if (!d.quorum) s += " quorum:no";
    s += ` open:${d.open ? "yes" : "no"}`;
    lines.push(s);
  }
  for (const c of byConnName(r)) {
    let s = `  ${c.connName || `node-id:${c.peerNodeId}`}`;
    if (c.connection !== "Connected") s += ` connection:${c.connection}`;
    else s += ` role:${c.peerRole}`;
    if (c.congested) s += " congested:yes";
    lines.push(s);
    if (c.connection !== "Connected") continue;
    for (const p of [...c.peerDevices.values()].sort((a, b) => a.volume - b.volume)) {
      let t = single && p.volume === 0 ? "   " : `    volume:${p.volume}`;
      if (p.replication !== "Off" && p.replication !== "Established") t += ` replication:${p.replication}`;
      if (p.replication !== "Off" || p.peerDisk !== "DUnknown") {
        t += ` peer-disk:${p.peerDisk}`;
        if (p.peerDisk === "Diskless") t += ` peer-client:${p.peerClient ? "yes" : "no"}`;
        if (p.done !== undefined) t += ` done:${p.done.toFixed(2)}`;
        if (p.resyncSuspended !== "no") t += ` resync-suspended:${p.resyncSuspended}`;
      }
      if (t.trim()) lines.push(t);
    }
  }
  return lines.join("\n") + "\n";
}

/** `JSON.stringify(resources.map(resourceJson), null, 2)` and a newline, in pieces of about `size`
 * characters that each end with a newline, encoding one resource at a time: the status of a large
 * model is never built as one object tree and one string (replay --model). */
export function* statusJsonPieces(rs: readonly DrbdResource[], size = 1 << 16): Generator<string> {
  if (!rs.length) return yield "[]\n";
  let out = "[\n";
  for (let i = 0; i < rs.length; i++) {
    const last = i + 1 === rs.length;
    // An element of an array indented by 2 is the element's own text, each line indented by 2 more.
    out += "  " + JSON.stringify(resourceJson(rs[i]!), null, 2).replaceAll("\n", "\n  ") + (last ? "\n]\n" : ",\n");
    if (last || out.length >= size) {
      yield out;
      out = "";
    }
  }
}
