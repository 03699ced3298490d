// A generated `drbdsetup events2 --full` stream over many resources for the DRBD benches: the
// initial dump, then statistics rounds (what `n` prints) with state changes mixed in (role flips,
// connection loss and return with a resync and `done:` progress). Yields lines lazily, so a 2M-line
// run does not hold the stream in memory.
import {
  connectionLine, initialDump, makeResource, peerDeviceLine, resourceLine, statisticsRound, type SimResource,
} from "../test/helpers/drbd-cluster.ts";

export function cluster(resources: number): SimResource[] {
  return Array.from({ length: resources }, (_, i) =>
    makeResource(`res${i}`, 1000 + i * 4, 1 + (i % 3), i % 2 ? ["alpha", "beta"] : ["alpha"]));
}

function* changes(rs: SimResource[], i: number): Generator<string> {
  const r = rs[i % rs.length]!;
  const c = r.connections[0]!;
  switch (i % 4) {
    case 0:
      r.role = r.role === "Primary" ? "Secondary" : "Primary";
      r.mayPromote = r.role !== "Primary";
      yield resourceLine("change", r);
      break;
    case 1:
      c.connection = "NetworkFailure";
      c.role = "Unknown";
      yield connectionLine("change", r, c);
      for (const p of c.peerDevices) {
        p.replication = "Off";
        p.peerDisk = "DUnknown";
        yield peerDeviceLine("change", r, c, p);
      }
      c.connection = "Connecting";
      yield connectionLine("change", r, c);
      break;
    case 2:
      c.connection = "Connected";
      c.role = "Secondary";
      yield connectionLine("change", r, c);
      for (const p of c.peerDevices) {
        p.replication = "SyncSource";
        p.peerDisk = "Inconsistent";
        p.outOfSync = 4096;
        for (const done of [0, 50, 99.5]) {
          p.done = done;
          yield peerDeviceLine("change", r, c, p);
        }
      }
      break;
    case 3:
      for (const p of c.peerDevices) {
        if (p.replication !== "SyncSource") continue;
        p.replication = "Established";
        p.peerDisk = "UpToDate";
        p.outOfSync = 0;
        p.done = undefined;
        yield peerDeviceLine("change", r, c, p);
      }
      break;
  }
}

/** Exactly `lines` lines (the dump first). */
export function* stream(resources: number, lines: number): Generator<string> {
  const rs = cluster(resources);
  let n = 0;
  for (const l of initialDump(rs)) {
    if (n++ >= lines) return;
    yield l;
  }
  for (let step = 1; ; step++) {
    const round = statisticsRound(rs, step);
    for (let k = 0; k < round.length; k++) {
      if (n++ >= lines) return;
      yield round[k]!;
      if (k % 50 === 0) {
        for (const l of changes(rs, step * 131 + k)) {
          if (n++ >= lines) return;
          yield l;
        }
      }
    }
  }
}
