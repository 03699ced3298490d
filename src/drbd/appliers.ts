// events2 fields into the state tree: enums as DRBD prints them, the per-object field appliers,
// state snapshots for comparison and severities by meaning. Pure functions; the model calls them.
import type { Severity } from "../event.ts";
import { own, seed } from "./intern.ts";
import { SmallMap, type Keyed } from "./small-map.ts";
import type { ConnectionState, DeviceState, DrbdConnection, DrbdDevice, DrbdPeerDevice, DrbdResource, PeerDeviceState, ResourceState } from "./state.ts";

// ---- enums as DRBD 9 prints them (drbd_strings.c); unknown values are kept as printed ----------

export const ROLES = ["Unknown", "Primary", "Secondary"] as const;
export const DISK_STATES = [
  "Diskless", "Attaching", "Detaching", "Failed", "Negotiating", "Inconsistent", "Outdated", "DUnknown", "Consistent",
  "UpToDate",
] as const;
export const CONNECTION_STATES = [
  "StandAlone", "Disconnecting", "Unconnected", "Timeout", "BrokenPipe", "NetworkFailure", "ProtocolError", "TearDown",
  "Connecting", "Connected",
] as const;
export const REPLICATION_STATES = [
  "Off", "Established", "StartingSyncS", "StartingSyncT", "WFBitMapS", "WFBitMapT", "WFSyncUUID", "SyncSource",
  "SyncTarget", "VerifyS", "VerifyT", "PausedSyncS", "PausedSyncT", "Ahead", "Behind",
] as const;
export const KNOWN: Record<string, ReadonlySet<string>> = {
  role: new Set(ROLES), disk: new Set(DISK_STATES), connection: new Set(CONNECTION_STATES),
  replication: new Set(REPLICATION_STATES),
};
export const RESYNC_STATES: ReadonlySet<string> = new Set(["SyncSource", "SyncTarget", "PausedSyncS", "PausedSyncT"]);
export const RESYNC = RESYNC_STATES;
seed([...ROLES, ...DISK_STATES, ...CONNECTION_STATES, ...REPLICATION_STATES, "no", "yes", "none", "flush", "drain", "bdev"]);
export const LINK_FAILURES = new Set(["NetworkFailure", "BrokenPipe", "Timeout", "ProtocolError"]);
export const SPLIT_BRAIN_HELPERS = new Set(["split-brain", "initial-split-brain"]);
export const MAX_EXTRA_KEYS = 64;

// events2 booleans: "no"/"false" is false, anything else (yes, user, ...) true - as drbd-reactor reads them.
export function yes(v: string): boolean {
  return v !== "no" && v !== "false";
}
export function num(v: string, old: number): number {
  const n = Number(v);
  return Number.isFinite(n) ? n : old;
}
export function int(v: string | undefined): number | undefined {
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

// Most objects never see an unknown key: they share one frozen empty `extra` until they do.
const NO_EXTRA: Record<string, string> = Object.freeze({}) as Record<string, string>;

export function newResource(name: string): DrbdResource {
  return {
    name, role: "Unknown", suspended: "no", forceIoFailures: false, writeOrdering: "none", mayPromote: false,
    promotionScore: 0, devices: new SmallMap(), connections: new SmallMap(), extra: NO_EXTRA,
  };
}
export function newDevice(volume: number): DrbdDevice {
  return {
    volume, minor: -1, disk: "DUnknown", backingDev: "none", client: false, open: false, quorum: false, size: 0,
    read: 0, written: 0, alWrites: 0, bmWrites: 0, upperPending: 0, lowerPending: 0, alSuspended: false,
    blocked: "no", extra: NO_EXTRA,
  };
}
export function newConnection(peerNodeId: number): DrbdConnection {
  return {
    peerNodeId, connName: "", connection: "StandAlone", peerRole: "Unknown", congested: false, apInFlight: 0,
    rsInFlight: 0, paths: new SmallMap(), peerDevices: new SmallMap(), extra: NO_EXTRA,
  };
}
export function newPeerDevice(volume: number): DrbdPeerDevice {
  return {
    volume, replication: "Off", peerDisk: "DUnknown", peerClient: false, resyncSuspended: "no", received: 0,
    sent: 0, outOfSync: 0, pending: 0, unacked: 0, done: undefined, extra: NO_EXTRA,
  };
}

export function getOrAdd<K, V>(m: Map<K, V> | Keyed<K, V>, k: K, make: (k: K) => V, key: (k: K) => K = (k) => k): V {
  let x = m.get(k);
  if (x === undefined) {
    x = make(k);
    m.set(key(k), x);
  }
  return x;
}

export function keepExtra(o: { extra: Record<string, string> }, k: string, v: string): void {
  if (o.extra === NO_EXTRA) o.extra = {};
  if (k in o.extra || Object.keys(o.extra).length < MAX_EXTRA_KEYS) o.extra[k] = v;
}

// Field appliers: set the object's fields from a record, return nothing; statistics overwrite.
export function setResource(r: DrbdResource, f: Record<string, string>): void {
  for (const k in f) {
    const v = f[k]!;
    switch (k) {
      case "name": break;
      case "role": r.role = own(v); break;
      case "suspended": r.suspended = own(v); break;
      case "force-io-failures": r.forceIoFailures = yes(v); break;
      case "write-ordering": r.writeOrdering = own(v); break;
      case "may_promote": r.mayPromote = yes(v); break;
      case "promotion_score": r.promotionScore = num(v, r.promotionScore); break;
      default: keepExtra(r, k, v);
    }
  }
}
export function setDevice(d: DrbdDevice, f: Record<string, string>): void {
  for (const k in f) {
    const v = f[k]!;
    switch (k) {
      case "name": case "volume": break;
      case "minor": d.minor = num(v, d.minor); break;
      case "disk": d.disk = own(v); break;
      case "backing_dev": d.backingDev = own(v); break;
      case "client": d.client = yes(v); break;
      case "open": d.open = v === "yes"; break;
      case "quorum": d.quorum = yes(v); break;
      case "size": d.size = num(v, d.size); break;
      case "read": d.read = num(v, d.read); break;
      case "written": d.written = num(v, d.written); break;
      case "al-writes": d.alWrites = num(v, d.alWrites); break;
      case "bm-writes": d.bmWrites = num(v, d.bmWrites); break;
      case "upper-pending": d.upperPending = num(v, d.upperPending); break;
      case "lower-pending": d.lowerPending = num(v, d.lowerPending); break;
      case "al-suspended": d.alSuspended = yes(v); break;
      case "blocked": d.blocked = own(v); break;
      default: keepExtra(d, k, v);
    }
  }
}
export function setConnection(c: DrbdConnection, f: Record<string, string>): void {
  for (const k in f) {
    const v = f[k]!;
    switch (k) {
      case "name": case "peer-node-id": break;
      case "conn-name": c.connName = own(v); break;
      case "connection": c.connection = own(v); break;
      case "role": c.peerRole = own(v); break;
      case "congested": c.congested = yes(v); break;
      case "ap-in-flight": c.apInFlight = num(v, c.apInFlight); break;
      case "rs-in-flight": c.rsInFlight = num(v, c.rsInFlight); break;
      default: keepExtra(c, k, v);
    }
  }
}
// Keys drbdsetup prints only while a resync runs (print_peer_device_statistics).
export const SYNC_ONLY = new Set(["done", "eta", "dbdt1"]);
export function setPeerDevice(p: DrbdPeerDevice, f: Record<string, string>, full: boolean): void {
  // A full line (statistics printed) without done: means no resync details any more.
  if (full && "received" in f && !("done" in f)) p.done = undefined;
  for (const k in f) {
    const v = f[k]!;
    switch (k) {
      case "name": case "peer-node-id": case "conn-name": case "volume": break;
      case "replication": p.replication = own(v); break;
      case "peer-disk": p.peerDisk = own(v); break;
      case "peer-client": p.peerClient = yes(v); break;
      case "resync-suspended": p.resyncSuspended = own(v); break;
      case "received": p.received = num(v, p.received); break;
      case "sent": p.sent = num(v, p.sent); break;
      case "out-of-sync": p.outOfSync = num(v, p.outOfSync); break;
      case "pending": p.pending = num(v, p.pending); break;
      case "unacked": p.unacked = num(v, p.unacked); break;
      case "done": { const n = Number(v); p.done = Number.isFinite(n) ? n : p.done; break; }
      default: if (!SYNC_ONLY.has(k)) keepExtra(p, k, v);
    }
  }
  if (!RESYNC.has(p.replication)) p.done = undefined;
}

// ---- state snapshots for comparison (a few scalars, not a clone of the tree) -------------------

export function resState(r: DrbdResource): ResourceState {
  return { role: r.role, "may-promote": r.mayPromote, "promotion-score": r.promotionScore };
}
export function devState(d: DrbdDevice): DeviceState {
  return { "disk-state": d.disk, client: d.client, quorum: d.quorum, size: d.size, open: d.open };
}
export function pdState(p: DrbdPeerDevice): PeerDeviceState {
  return {
    "replication-state": p.replication, "peer-disk-state": p.peerDisk, "peer-client": p.peerClient,
    "resync-suspended": yes(p.resyncSuspended),
  };
}
export function connState(c: DrbdConnection): ConnectionState {
  return { "conn-name": c.connName, "connection-state": c.connection, "peer-role": c.peerRole, congested: c.congested };
}
export function sameState(a: object, b: object): boolean {
  for (const k in a) if ((a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k]) return false;
  return true;
}

// ---- severities by meaning -----------------------------------------------------------------------

export function diskSeverity(state: string, client: boolean): Severity {
  if (state === "Failed") return "error";
  if (state === "Diskless") return client ? "info" : "error";
  if (state === "UpToDate" || state === "Consistent" || state === "Attaching" || state === "Negotiating") return "info";
  return "warn"; // Inconsistent, Outdated, DUnknown, Detaching, unknown values
}
export function connSeverity(state: string): Severity {
  if (state === "ProtocolError") return "error";
  if (LINK_FAILURES.has(state) || state === "StandAlone") return "warn";
  return "info";
}
