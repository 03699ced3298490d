// drbd-reactor's LINBIT DRBD MIB (enterprise 23302) built from the DRBD model, and the RFC 2741
// lookups over it: Get (7.2.3.1), GetNext (7.2.3.2), GetBulk (7.2.3.3). Pure: no sockets, no clock.
//
// Layout, as drbd-reactor serves it (src/plugin/agentx.rs):
//   .1.1.1 / .1.1.2       kernel module / drbd-utils version (strings, no .0 instance suffix)
//   .1.2.1.COLUMN.MINOR   one row per DRBD device, indexed by its minor; COLUMNS below, from 1
import type { DrbdResource, DrbdVersions } from "../../../src/plugin-kit/drbd.ts";
import { compareOid, type Oid, type SearchRange, type VarBind, VT } from "./pdu.ts";

export const LINBIT: Oid = [1, 3, 6, 1, 4, 1, 23302];
const META = [...LINBIT, 1, 1];
const TABLE = [...LINBIT, 1, 2, 1];

export const DISK_COLUMNS = [
  "Diskless", "Attaching", "Detaching", "Failed", "Negotiating", "Inconsistent", "Outdated", "DUnknown", "Consistent",
  "UpToDate",
] as const;
export const REPL_COLUMNS = [
  "Off", "Established", "StartingSyncS", "StartingSyncT", "WFBitMapS", "WFBitMapT", "WFSyncUUID", "SyncSource",
  "SyncTarget", "VerifyS", "VerifyT", "PausedSyncS", "PausedSyncT", "Ahead", "Behind",
] as const;

/** Column names (the MIB's descriptors) in OID order: COLUMNS[i] is column i + 1. */
export const COLUMNS = [
  "Minor", "ResourceName", "ResourceRole", "ResourceSuspended", "ResourceWriteOrdering", "ResourceForceIOFailures",
  "ResourceMayPromote", "ResourcePromotionScore", "Volume", "DiskState", "BackingDev", "Client", "Quorum", "Size",
  "SizeUnits", "Read", "Written", "AlWrites", "BmWrites", "UpperPending", "LowerPending", "AlSuspended", "Blocked",
  "PeerNumberOfPeers",
  ...DISK_COLUMNS.map((d) => `PeerDisk${d === "DUnknown" ? "Unknown" : d}`),
  ...REPL_COLUMNS.map((r) => `PeerRepl${r}`),
] as const;
const col = (name: string) => COLUMNS.indexOf(name as (typeof COLUMNS)[number]) + 1;
const PEERS_COL = col("PeerNumberOfPeers");
const DISK_COL0 = col("PeerDiskDiskless");
const REPL_COL0 = col("PeerReplOff");

const text = new TextEncoder();
const U32_MAX = 0xffffffff;
/** SNMPv2-TC TruthValue: true(1), false(2). */
const truth = (b: boolean): VarBind["value"] => (b ? 1 : 2);
/** events2 booleans as drbd-reactor reads them ("suspended:user" is true). */
const yes = (s: string) => s !== "no" && s !== "false";

/** KiB as hrStorageTable does it: a 32-bit count of `unit`-byte blocks, unit growing by 1024. */
export function sizeToSnmp(kib: number): { size: number; unit: number } | null {
  let size = Math.max(0, Math.floor(kib));
  let unit = 1024;
  while (size > U32_MAX) {
    size = Math.floor(size / 1024);
    unit *= 1024;
    if (unit > U32_MAX) return null;
  }
  return { size, unit };
}

/** Every object of the MIB, sorted by OID. */
export function buildMib(resources: Iterable<DrbdResource>, version: DrbdVersions, peerStates: boolean): VarBind[] {
  const out: VarBind[] = [
    { name: [...META, 1], type: VT.OctetString, value: text.encode(version.kmod) },
    { name: [...META, 2], type: VT.OctetString, value: text.encode(version.utils) },
  ];
  for (const r of resources) {
    const minorOf = new Map<number, number>();
    for (const d of r.devices.values()) {
      // A device is a row only once its minor is known (events2 always prints it).
      if (!Number.isInteger(d.minor) || d.minor < 0) continue;
      minorOf.set(d.volume, d.minor);
      const at = (c: string, type: number, value: VarBind["value"]) => out.push({ name: [...TABLE, col(c), d.minor], type, value });
      at("Minor", VT.Integer, d.minor);
      at("ResourceName", VT.OctetString, text.encode(r.name));
      at("ResourceRole", VT.OctetString, text.encode(r.role));
      at("ResourceSuspended", VT.Integer, truth(yes(r.suspended)));
      at("ResourceWriteOrdering", VT.OctetString, text.encode(r.writeOrdering));
      at("ResourceForceIOFailures", VT.Integer, truth(r.forceIoFailures));
      at("ResourceMayPromote", VT.Integer, truth(r.mayPromote));
      at("ResourcePromotionScore", VT.Integer, r.promotionScore | 0);
      at("Volume", VT.Integer, d.volume);
      at("DiskState", VT.OctetString, text.encode(d.disk));
      at("BackingDev", VT.OctetString, text.encode(d.backingDev));
      at("Client", VT.Integer, truth(d.client));
      at("Quorum", VT.Integer, truth(d.quorum));
      const size = sizeToSnmp(d.size);
      if (size) {
        at("Size", VT.Gauge32, size.size);
        at("SizeUnits", VT.Gauge32, size.unit);
      }
      at("Read", VT.Counter64, BigInt(Math.max(0, Math.floor(d.read))));
      at("Written", VT.Counter64, BigInt(Math.max(0, Math.floor(d.written))));
      at("AlWrites", VT.Counter64, BigInt(Math.max(0, Math.floor(d.alWrites))));
      at("BmWrites", VT.Counter64, BigInt(Math.max(0, Math.floor(d.bmWrites))));
      at("UpperPending", VT.Gauge32, Math.min(U32_MAX, Math.max(0, d.upperPending)));
      at("LowerPending", VT.Gauge32, Math.min(U32_MAX, Math.max(0, d.lowerPending)));
      at("AlSuspended", VT.Integer, truth(d.alSuspended));
      at("Blocked", VT.OctetString, text.encode(d.blocked));
    }
    if (peerStates) {
      // Per device: how many peers are in each disk and replication state (0 when none).
      const counts = new Map<number, number[]>();
      for (const minor of minorOf.values()) counts.set(minor, new Array(COLUMNS.length + 1).fill(0));
      for (const c of r.connections.values()) {
        for (const pd of c.peerDevices.values()) {
          const minor = minorOf.get(pd.volume);
          if (minor === undefined) continue;
          const n = counts.get(minor)!;
          n[PEERS_COL]!++;
          const di = DISK_COLUMNS.indexOf(pd.peerDisk as (typeof DISK_COLUMNS)[number]);
          if (di >= 0) n[DISK_COL0 + di]!++;
          const ri = REPL_COLUMNS.indexOf(pd.replication as (typeof REPL_COLUMNS)[number]);
          if (ri >= 0) n[REPL_COL0 + ri]!++;
        }
      }
      for (const [minor, n] of counts) {
        for (let c = PEERS_COL; c <= COLUMNS.length; c++) out.push({ name: [...TABLE, c, minor], type: VT.Integer, value: n[c]! });
      }
    }
  }
  return out.sort((a, b) => compareOid(a.name, b.name));
}

/** Read-only lookups over one built MIB. */
export class MibView {
  constructor(readonly entries: readonly VarBind[]) {}

  /** Index of the first entry > oid (or >= when include). */
  private seek(oid: Oid, include: boolean): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = compareOid(this.entries[mid]!.name, oid);
      if (c < 0 || (c === 0 && !include)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Exact matches; anything else is noSuchObject, as drbd-reactor answers. */
  get(ranges: readonly SearchRange[]): VarBind[] {
    return ranges.map((r) => {
      const i = this.seek(r.start, true);
      const e = this.entries[i];
      return e && compareOid(e.name, r.start) === 0 ? e : { name: r.start, type: VT.NoSuchObject, value: null };
    });
  }

  /** The first object in [start, end) (start itself only when include); else endOfMibView at start. */
  next(r: SearchRange): VarBind {
    const e = this.entries[this.seek(r.start, r.include)];
    if (!e || (r.end.length > 0 && compareOid(e.name, r.end) >= 0)) return { name: r.start, type: VT.EndOfMibView, value: null };
    return e;
  }

  getNext(ranges: readonly SearchRange[]): VarBind[] {
    return ranges.map((r) => this.next(r));
  }

  /** Non-repeaters once each, then up to maxRepetitions rounds over the rest; stops when all end. */
  getBulk(nonRepeaters: number, maxRepetitions: number, ranges: readonly SearchRange[], limit = 1000): VarBind[] {
    const n = Math.min(nonRepeaters, ranges.length);
    const out = ranges.slice(0, n).map((r) => this.next(r));
    let cur = ranges.slice(n).map((r) => ({ ...r }));
    for (let rep = 0; rep < maxRepetitions && cur.length > 0 && out.length < limit; rep++) {
      const row = cur.map((r) => this.next(r));
      out.push(...row);
      if (row.every((vb) => vb.type === VT.EndOfMibView)) break;
      cur = cur.map((r, i) => ({ start: row[i]!.name, include: false, end: r.end }));
    }
    return out;
  }
}
