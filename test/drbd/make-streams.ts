// Writes the recorded events2 streams under test/drbd/streams/ and the `drbdsetup status --json`
// document each must leave the model in (from the simulated node's state, not from the model).
// Run: bun test/drbd/make-streams.ts
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  type SimResource, connectionLine, destroyLines, deviceLine, initialDump, makeResource, pathLine, peerDeviceLine,
  resourceDump, resourceLine, statisticsRound,
} from "../helpers/drbd-cluster.ts";

const dir = join(import.meta.dir, "streams");
mkdirSync(dir, { recursive: true });

/** The status --json document of simulated resources (drbdsetup.c resource_status_json & co). */
export function simStatusJson(resources: SimResource[]): unknown[] {
  const sorted = [...resources].sort((a, b) => (a.name < b.name ? -1 : 1));
  return sorted.map((r) => ({
    name: r.name, "node-id": -1, role: r.role, suspended: r.suspended !== "no",
    "suspended-user": r.suspended.split(",").includes("user"),
    "suspended-no-data": r.suspended.split(",").includes("no-data"),
    "suspended-fencing": r.suspended.split(",").includes("fencing"),
    "suspended-quorum": r.suspended.split(",").includes("quorum"),
    "force-io-failures": false, "write-ordering": r.writeOrdering,
    devices: r.devices.map((d) => ({
      volume: d.volume, minor: d.minor, "disk-state": d.disk, client: d.client, open: d.open, quorum: d.quorum,
      size: d.size, read: d.read, written: d.written, "al-writes": d.alWrites, "bm-writes": d.bmWrites,
      "upper-pending": 0, "lower-pending": 0,
    })),
    connections: [...r.connections].sort((a, b) => (a.connName < b.connName ? -1 : 1)).map((c) => ({ // by name, as drbdsetup
      "peer-node-id": c.peer, name: c.connName, "connection-state": c.connection, congested: c.congested,
      "peer-role": c.role, tls: false, "ap-in-flight": 0, "rs-in-flight": 0,
      paths: [{
        this_host: addr(c.local), remote_host: addr(c.remote), established: c.established,
      }],
      peer_devices: c.peerDevices.map((p) => {
        const size = r.devices.find((d) => d.volume === p.volume)!.size;
        const o: Record<string, unknown> = {
          volume: p.volume, "replication-state": p.replication, "peer-disk-state": p.peerDisk, "peer-client": p.peerClient,
          "resync-suspended": p.resyncSuspended, received: p.received, sent: p.sent, "out-of-sync": p.outOfSync,
          pending: 0, unacked: 0, "has-sync-details": false, "has-online-verify-details": false,
          "percent-in-sync": Math.round(10000 * (1 - p.outOfSync / size)) / 100,
        };
        if (p.done !== undefined) o["percent-resync-done"] = p.done;
        return o;
      }),
    })),
  }));
}

function addr(s: string) {
  const [family, address, port] = s.split(":");
  return { address, port: Number(port), family };
}

function write(name: string, lines: string[], final: SimResource[]): void {
  writeFileSync(join(dir, `${name}.events2`), lines.join("\n") + "\n");
  writeFileSync(join(dir, `${name}.status.json`), JSON.stringify(simStatusJson(final), null, 2) + "\n");
}

// ---- lifecycle: promote, disconnect/reconnect with resync, quorum loss, split-brain, destroy, create ----
{
  const r0 = makeResource("r0", 1000, 1, ["alice", "bob"], 0);
  const r1 = makeResource("r1", 1010, 2, ["alice"], 0);
  const web = makeResource("web", 1020, 1, ["alice", "bob"], 0);
  const all = [r0, r1, web];
  const L: string[] = initialDump(all);
  // r0: this node becomes Primary (may_promote drops as drbdsetup computes it).
  r0.role = "Primary"; r0.mayPromote = false;
  L.push(resourceLine("change", r0));
  for (const c of r0.connections) { c.role = "Secondary"; }
  r0.devices[0]!.open = true;
  L.push(deviceLine("change", r0, r0.devices[0]!));
  // r0: link to alice breaks; bob keeps going.
  const a = r0.connections[0]!;
  a.connection = "BrokenPipe"; a.role = "Unknown";
  L.push(connectionLine("change", r0, a));
  a.peerDevices[0]!.replication = "Off"; a.peerDevices[0]!.peerDisk = "DUnknown";
  L.push(peerDeviceLine("change", r0, a, a.peerDevices[0]!));
  a.established = false;
  L.push(pathLine("change", r0, a));
  a.connection = "Unconnected"; L.push(connectionLine("change", r0, a));
  a.connection = "Connecting"; L.push(connectionLine("change", r0, a));
  r0.devices[0]!.written += 4096;
  L.push(...statisticsRound([r0], 1));
  // alice returns: resync of what was written meanwhile.
  a.connection = "Connected"; a.role = "Secondary"; a.established = true;
  L.push(pathLine("change", r0, a));
  L.push(connectionLine("change", r0, a));
  const pa = a.peerDevices[0]!;
  pa.replication = "SyncSource"; pa.peerDisk = "Inconsistent"; pa.outOfSync = 4096; pa.done = 0;
  L.push(peerDeviceLine("change", r0, a, pa));
  for (const [done, oos] of [[37.5, 2560], [81.25, 768]] as const) {
    pa.done = done; pa.outOfSync = oos; pa.sent += oos;
    L.push(peerDeviceLine("change", r0, a, pa));
  }
  pa.replication = "Established"; pa.peerDisk = "UpToDate"; pa.outOfSync = 0; pa.done = undefined; pa.sent += 768;
  L.push(peerDeviceLine("change", r0, a, pa));
  // r1: both volumes lose quorum (the peer is gone), I/O suspended by on-no-quorum suspend-io.
  const c1 = r1.connections[0]!;
  c1.connection = "NetworkFailure"; c1.role = "Unknown"; L.push(connectionLine("change", r1, c1));
  for (const p of c1.peerDevices) { p.replication = "Off"; p.peerDisk = "DUnknown"; L.push(peerDeviceLine("change", r1, c1, p)); }
  for (const d of r1.devices) { d.quorum = false; L.push(deviceLine("change", r1, d)); }
  r1.suspended = "quorum"; r1.mayPromote = false; r1.promotionScore = 0; L.push(resourceLine("change", r1));
  c1.connection = "Connecting"; L.push(connectionLine("change", r1, c1));
  c1.connection = "Connected"; c1.role = "Secondary"; L.push(connectionLine("change", r1, c1));
  for (const p of c1.peerDevices) { p.replication = "Established"; p.peerDisk = "UpToDate"; L.push(peerDeviceLine("change", r1, c1, p)); }
  for (const d of r1.devices) { d.quorum = true; L.push(deviceLine("change", r1, d)); }
  r1.suspended = "no"; r1.mayPromote = true; r1.promotionScore = 10103; L.push(resourceLine("change", r1));
  // web: split brain with bob after both were Primary; the connection ends StandAlone.
  const b = web.connections[1]!;
  L.push(`call helper name:web peer-node-id:${b.peer} conn-name:bob volume:0 minor:1020 helper:split-brain`);
  L.push(`response helper name:web peer-node-id:${b.peer} conn-name:bob volume:0 minor:1020 helper:split-brain status:0`);
  b.connection = "Disconnecting"; b.role = "Unknown"; L.push(connectionLine("change", web, b));
  b.peerDevices[0]!.replication = "Off"; b.peerDevices[0]!.peerDisk = "DUnknown";
  L.push(peerDeviceLine("change", web, b, b.peerDevices[0]!));
  b.connection = "StandAlone"; b.established = false; L.push(connectionLine("change", web, b));
  L.push(pathLine("change", web, b));
  // r1 goes away (drbdadm down), new0 comes up (drbdadm up): diskless client, one peer.
  L.push(...destroyLines(r1));
  all.splice(all.indexOf(r1), 1);
  const n0 = makeResource("new0", 1030, 1, ["alice"], 0);
  n0.devices[0]!.disk = "Diskless"; n0.devices[0]!.client = true; n0.devices[0]!.backingDev = "none";
  n0.mayPromote = false; n0.promotionScore = 0;
  n0.connections[0]!.connection = "Connecting"; n0.connections[0]!.role = "Unknown"; n0.connections[0]!.established = false;
  n0.connections[0]!.peerDevices[0]!.replication = "Off"; n0.connections[0]!.peerDevices[0]!.peerDisk = "DUnknown";
  L.push(...resourceDump("create", n0));
  all.push(n0);
  L.push(...statisticsRound(all, 2));
  write("lifecycle", L, all);
  // What a restarted drbdsetup prints at the end of it: the dump of the final state.
  writeFileSync(join(dir, "lifecycle-final.events2"), initialDump(all).join("\n") + "\n");
}

// ---- dump only: many volumes and peers, one resync in flight, a Diskless failure -----------------
{
  const rs: SimResource[] = [];
  for (let i = 0; i < 6; i++) rs.push(makeResource(`res${i}`, 1100 + 10 * i, 1 + (i % 3), ["n1", "n2"], 0));
  const p = rs[2]!.connections[1]!.peerDevices[1]!;
  p.replication = "SyncTarget"; p.peerDisk = "UpToDate"; p.outOfSync = 262144; p.done = 12.5;
  rs[2]!.devices[1]!.disk = "Inconsistent";
  rs[4]!.devices[0]!.disk = "Diskless"; rs[4]!.devices[0]!.backingDev = "none";
  rs[5]!.role = "Primary"; rs[5]!.mayPromote = false;
  write("dump", initialDump(rs), rs);
}
