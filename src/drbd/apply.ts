// One events2 record into a state tree, per object kind; with `out` (live, after the first dump)
// each real change also goes out as events and updates (changes.ts).
import type { Events2Record } from "../records.ts";
import {
  KNOWN, SPLIT_BRAIN_HELPERS, connState, devState, getOrAdd, int, newConnection, newDevice, newPeerDevice, newResource, pdState,
  resState, setConnection, setDevice, setPeerDevice, setResource, yes,
} from "./appliers.ts";
import { connectionChanged, deviceChanged, draft, peerDeviceChanged, resourceChanged, resourceGone, type Out } from "./changes.ts";
import { own } from "./intern.ts";
import { CONN0, DEV0, PD0, type DrbdConnection, type DrbdResource, type ModelState, type UpdateEventType } from "./state.ts";

/** What the model counts of records it could not use. */
export interface Tally {
  readonly stats: { ignored: number };
  /** Unknown enum values seen, per kind (recorded as printed, also counted here). */
  readonly unknownValues: Map<string, number>;
}

function ignore(t: Tally, kind: string): void {
  t.stats.ignored++;
  t.unknownValues.set(kind, (t.unknownValues.get(kind) ?? 0) + 1);
}

function checkEnum(t: Tally, kind: string, v: string | undefined): void {
  if (v !== undefined && !KNOWN[kind]!.has(v)) t.unknownValues.set(`${kind}:${v}`, (t.unknownValues.get(`${kind}:${v}`) ?? 0) + 1);
}

/** Applies rec to st; emits events and updates through `out` when set. */
export function applyRecord(st: ModelState, rec: Events2Record, out: Out | null, t: Tally): void {
  const name = rec.fields.name;
  if (name === undefined) return ignore(t, "no-name");
  const verb = rec.verb;
  const et: UpdateEventType = verb === "exists" ? "Exists" : verb === "create" ? "Create" : verb === "destroy" ? "Destroy" : "Change";
  switch (rec.object) {
    case "resource": return applyResource(st, rec, name, et, out, t);
    case "device": return applyDevice(st, rec, name, et, out, t);
    case "connection": return applyConnection(st, rec, name, et, out, t);
    case "peer-device": return applyPeerDevice(st, rec, name, et, out, t);
    case "path": return applyPath(st, rec, name, t);
    case "helper": if (out) helper(rec, name, out); return;
    default: ignore(t, `object:${rec.object}`);
  }
}

function applyResource(st: ModelState, rec: Events2Record, name: string, et: UpdateEventType, out: Out | null, t: Tally): void {
  if (rec.verb === "rename") {
    const r = st.resources.get(name);
    const to = rec.fields.new_name;
    if (!r || !to) return;
    st.gen++;
    st.resources.delete(name);
    r.name = own(to);
    st.resources.set(r.name, r);
    return;
  }
  let r = st.resources.get(name);
  if (et === "Destroy") {
    if (!r) return;
    st.gen++;
    st.resources.delete(name);
    if (out) resourceGone(r, rec, out);
    return;
  }
  checkEnum(t, "role", rec.fields.role);
  const created = !r;
  r ??= newResource(own(name));
  if (created) st.resources.set(r.name, r);
  const old = created ? null : { state: resState(r), suspended: r.suspended };
  setResource(r, rec.fields);
  if (out) resourceChanged(old, r, created ? (et === "Exists" ? "Exists" : "Create") : et, rec, out);
}

function resourceFor(st: ModelState, name: string): DrbdResource {
  return getOrAdd(st.resources, name, (n) => newResource(own(n)), own);
}

function connectionFor(r: DrbdResource, peer: number): DrbdConnection {
  return getOrAdd(r.connections, peer, newConnection);
}

function applyDevice(st: ModelState, rec: Events2Record, name: string, et: UpdateEventType, out: Out | null, t: Tally): void {
  const volume = int(rec.fields.volume);
  if (volume === undefined) return ignore(t, "device-no-volume");
  const r = et === "Destroy" ? st.resources.get(name) : resourceFor(st, name);
  if (!r) return;
  let d = r.devices.get(volume);
  if (et === "Destroy") {
    if (!d) return;
    r.devices.delete(volume);
    if (out) out.notify({ kind: "device", eventType: "Destroy", resource: name, volume, old: devState(d), new: devState(d) });
    return;
  }
  checkEnum(t, "disk", rec.fields.disk);
  const created = !d;
  d ??= newDevice(volume);
  if (created) r.devices.set(volume, d);
  const prev = created ? DEV0 : devState(d);
  setDevice(d, rec.fields);
  if (out) deviceChanged(created ? null : prev, r, d, et, rec, out);
}

function applyConnection(st: ModelState, rec: Events2Record, name: string, et: UpdateEventType, out: Out | null, t: Tally): void {
  const peer = int(rec.fields["peer-node-id"]);
  if (peer === undefined) return ignore(t, "connection-no-peer");
  const r = et === "Destroy" ? st.resources.get(name) : resourceFor(st, name);
  if (!r) return;
  let c = r.connections.get(peer);
  if (et === "Destroy") {
    if (!c) return;
    r.connections.delete(peer);
    if (out) out.notify({ kind: "connection", eventType: "Destroy", resource: name, peerNodeId: peer, old: connState(c), new: connState(c) });
    return;
  }
  checkEnum(t, "connection", rec.fields.connection);
  checkEnum(t, "role", rec.fields.role);
  const created = !c;
  c ??= connectionFor(r, peer);
  const prev = created ? CONN0 : connState(c);
  setConnection(c, rec.fields);
  if (out) connectionChanged(created ? null : prev, r, c, et, rec, out);
}

function applyPeerDevice(st: ModelState, rec: Events2Record, name: string, et: UpdateEventType, out: Out | null, t: Tally): void {
  const peer = int(rec.fields["peer-node-id"]);
  const volume = int(rec.fields.volume);
  if (peer === undefined || volume === undefined) return ignore(t, "peer-device-no-id");
  const r = et === "Destroy" ? st.resources.get(name) : resourceFor(st, name);
  if (!r) return;
  const c = et === "Destroy" ? r.connections.get(peer) : connectionFor(r, peer);
  if (!c) return;
  let p = c.peerDevices.get(volume);
  if (et === "Destroy") {
    if (!p) return;
    c.peerDevices.delete(volume);
    if (out) {
      out.notify({ kind: "peer-device", eventType: "Destroy", resource: name, volume, peerNodeId: peer, old: pdState(p), new: pdState(p) });
    }
    return;
  }
  checkEnum(t, "replication", rec.fields.replication);
  checkEnum(t, "disk", rec.fields["peer-disk"]);
  if (rec.fields["conn-name"] && !c.connName) c.connName = own(rec.fields["conn-name"]);
  const created = !p;
  p ??= newPeerDevice(volume);
  if (created) c.peerDevices.set(volume, p);
  const prev = created ? PD0 : pdState(p);
  const prevDone = p.done;
  setPeerDevice(p, rec.fields, "received" in rec.fields);
  if (out) peerDeviceChanged(created ? null : prev, prevDone, r, c, p, et, rec, out);
}

function applyPath(st: ModelState, rec: Events2Record, name: string, t: Tally): void {
  const peer = int(rec.fields["peer-node-id"]);
  const { local, peer: remote } = rec.fields;
  if (peer === undefined || local === undefined || remote === undefined) return ignore(t, "path-no-id");
  const key = `${local} ${remote}`;
  if (rec.verb === "destroy") {
    st.resources.get(name)?.connections.get(peer)?.paths.delete(key);
    return;
  }
  const c = connectionFor(resourceFor(st, name), peer);
  if (rec.fields["conn-name"] && !c.connName) c.connName = own(rec.fields["conn-name"]);
  let p = c.paths.get(key);
  if (!p) {
    p = { local: own(local), peer: own(remote), established: false };
    c.paths.set(key, p);
  }
  if (rec.fields.established !== undefined) p.established = yes(rec.fields.established);
}

function helper(rec: Events2Record, name: string, out: Out): void {
  const f = rec.fields;
  if (rec.verb !== "call") return;
  const helper = f.helper ?? "";
  const minor = int(f.minor);
  const ext: Record<string, unknown> = { resource: name, helper };
  const volume = int(f.volume);
  const peer = int(f["peer-node-id"]);
  if (volume !== undefined) ext.volume = volume;
  if (peer !== undefined) ext.peer = peer;
  if (f["conn-name"]) ext.conn_name = f["conn-name"];
  if (minor !== undefined) ext.minor = minor;
  const dev = minor !== undefined ? `drbd${minor}` : "";
  const to = f["conn-name"] ?? (peer !== undefined ? `node ${peer}` : "a peer");
  if (SPLIT_BRAIN_HELPERS.has(helper)) {
    out.emit(draft(rec, "error", "DRBD_SPLIT_BRAIN", `DRBD ${name}${volume !== undefined ? `/${volume}` : ""} split-brain detected with ${to}`, ext, dev));
  } else if (helper === "fence-peer") {
    out.emit(draft(rec, "warn", "DRBD_FENCE_PEER", `DRBD ${name} fences ${to}`, ext, dev));
  }
}
