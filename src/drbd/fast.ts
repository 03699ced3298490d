// The model's fast lane for statistics lines (`change device` / `change peer-device` that only move
// counters): the native tokenizer hands numbers, enum indexes and interned string ids in fixed slots
// (native/src/events2_fast.{h,cc}, whose key tables this file mirrors), and this updates the live
// objects in place - no string, object or event per line. A line that would change anything an
// event, an update or a new object depends on is refused (false) and goes through DrbdModel.apply(),
// so both ways end in the same state: the fast lane never decides, it only skips proven no-ops.
import { FAST_DEVICE, FAST_PEER_DEVICE } from "./events2.ts";
import { DISK_STATES, REPLICATION_STATES, RESYNC_STATES, type DrbdModel, type DrbdResource, type ModelState } from "./model.ts";

// Slots (from the kind at base+0): 1 name id; device: 2 volume, 4.. minor disk backing_dev client
// open quorum size read written al-writes bm-writes upper-pending lower-pending al-suspended blocked;
// peer device: 2 peer-node-id, 3 volume, 4.. conn-name replication peer-disk peer-client
// resync-suspended received sent out-of-sync pending unacked done eta dbdt1. NaN: key absent.

/** Applies one fast-lane line to `model`; false when it must go through apply(). Slot values are
 * doubles: `| 0` makes indexes and map keys int32, which the JIT indexes directly. */
export function applyFastLine(model: DrbdModel, n: Float64Array, b: number, strs: readonly string[]): boolean {
  const live = model.fastState();
  if (!live) return false;
  const r = resourceOf(live, n[b + 1]! | 0, strs);
  if (!r) return false;
  const kind = n[b]! & 15;
  const ok = kind === FAST_DEVICE ? device(r, n, b, strs) : kind === FAST_PEER_DEVICE ? peerDevice(r, n, b, strs) : false;
  if (ok) model.countFast();
  return ok;
}

// Resources by interned name id, for one tokenizer's strings and one state tree while no resource
// left it (ModelState.gen): an array index and a name compare instead of a string-keyed Map lookup.
let cacheStrs: readonly string[] | null = null;
let cacheState: ModelState | null = null;
let cacheGen = -1;
let byId: (DrbdResource | undefined)[] = [];

function resourceOf(st: ModelState, id: number, strs: readonly string[]): DrbdResource | undefined {
  if (strs !== cacheStrs || st !== cacheState || st.gen !== cacheGen) {
    cacheStrs = strs;
    cacheState = st;
    cacheGen = st.gen;
    byId = [];
  }
  const name = strs[id];
  let r = byId[id];
  // The name check: a lane fed by one-shot tokenizer calls (events2Tokenize) reuses ids for
  // other names; a renamed resource no longer answers to its old name.
  if (r === undefined || r.name !== name) {
    r = name === undefined ? undefined : st.resources.get(name);
    // Misses are not kept: the resource may be created by the next full-way record.
    if (r) byId[id] = r;
  }
  return r;
}

function device(r: DrbdResource, n: Float64Array, b: number, strs: readonly string[]): boolean {
  const d = r.devices.get(n[b + 2]! | 0);
  if (!d) return false;
  let v: number;
  // What DeviceState and the device events compare: any change takes the full way.
  if ((v = n[b + 5]!) === v && DISK_STATES[v | 0] !== d.disk) return false;
  if ((v = n[b + 7]!) === v && (v === 1) !== d.client) return false;
  if ((v = n[b + 8]!) === v && (v === 1) !== d.open) return false;
  if ((v = n[b + 9]!) === v && (v === 1) !== d.quorum) return false;
  if ((v = n[b + 10]!) === v && v !== d.size) return false;
  if ((v = n[b + 4]!) === v) d.minor = v;
  if ((v = n[b + 6]!) === v) d.backingDev = strs[v | 0]!;
  if ((v = n[b + 11]!) === v) d.read = v;
  if ((v = n[b + 12]!) === v) d.written = v;
  if ((v = n[b + 13]!) === v) d.alWrites = v;
  if ((v = n[b + 14]!) === v) d.bmWrites = v;
  if ((v = n[b + 15]!) === v) d.upperPending = v;
  if ((v = n[b + 16]!) === v) d.lowerPending = v;
  if ((v = n[b + 17]!) === v) d.alSuspended = v === 1;
  if ((v = n[b + 18]!) === v) d.blocked = strs[v | 0]!;
  return true;
}

function peerDevice(r: DrbdResource, n: Float64Array, b: number, strs: readonly string[]): boolean {
  const c = r.connections.get(n[b + 2]! | 0);
  const p = c?.peerDevices.get(n[b + 3]! | 0);
  if (!c || !p) return false;
  let v: number;
  if ((v = n[b + 4]!) === v && !c.connName) return false; // apply() names the connection
  if ((v = n[b + 5]!) === v && REPLICATION_STATES[v | 0] !== p.replication) return false;
  if ((v = n[b + 6]!) === v && DISK_STATES[v | 0] !== p.peerDisk) return false;
  if ((v = n[b + 7]!) === v && (v === 1) !== p.peerClient) return false;
  if ((v = n[b + 8]!) === v && strs[v | 0] !== p.resyncSuspended) return false;
  const received = n[b + 9]!;
  if (received === received) p.received = received;
  if ((v = n[b + 10]!) === v) p.sent = v;
  if ((v = n[b + 11]!) === v) p.outOfSync = v;
  if ((v = n[b + 12]!) === v) p.pending = v;
  if ((v = n[b + 13]!) === v) p.unacked = v;
  // As setPeerDevice: a full line without done: ends the resync details; done only while resyncing.
  const done = n[b + 14]!;
  if (done === done) p.done = done;
  else if (received === received) p.done = undefined;
  if (!RESYNC_STATES.has(p.replication)) p.done = undefined;
  return true;
}
