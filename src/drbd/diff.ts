// The resync diff: a restarted drbdsetup's dump (b) against the state before it (a), as the events
// and updates the live path would have given for the same changes, so plugins see real changes only.
import type { Events2Record } from "../records.ts";
import { connState, devState, pdState, resState } from "./appliers.ts";
import { connectionChanged, deviceChanged, peerDeviceChanged, resourceChanged, resourceGone, type Out } from "./changes.ts";
import type { ModelState } from "./state.ts";

/** Emits the differences of a and b; returns the number of object changes (updates). */
export function diffStates(a: ModelState, b: ModelState, rec: Events2Record, out: Out): number {
  let n = 0;
  const o: Out = {
    emit: out.emit,
    notify(u) {
      n++;
      out.notify(u);
    },
  };
  for (const [name, rb] of b.resources) {
    const ra = a.resources.get(name);
    if (!ra) {
      resourceChanged(null, rb, "Create", rec, o);
      for (const d of rb.devices.values()) deviceChanged(null, rb, d, "Create", rec, o);
      for (const c of rb.connections.values()) {
        connectionChanged(null, rb, c, "Create", rec, o);
        for (const p of c.peerDevices.values()) peerDeviceChanged(null, undefined, rb, c, p, "Create", rec, o);
      }
      continue;
    }
    resourceChanged({ state: resState(ra), suspended: ra.suspended }, rb, "Change", rec, o);
    for (const [vol, da] of ra.devices) {
      if (!rb.devices.has(vol)) o.notify({ kind: "device", eventType: "Destroy", resource: name, volume: vol, old: devState(da), new: devState(da) });
    }
    for (const [vol, db] of rb.devices) {
      const da = ra.devices.get(vol);
      deviceChanged(da ? devState(da) : null, rb, db, da ? "Change" : "Create", rec, o);
    }
    for (const [peer, ca] of ra.connections) {
      const cb = rb.connections.get(peer);
      for (const [vol, pa] of ca.peerDevices) {
        if (!cb?.peerDevices.has(vol)) {
          o.notify({ kind: "peer-device", eventType: "Destroy", resource: name, volume: vol, peerNodeId: peer, old: pdState(pa), new: pdState(pa) });
        }
      }
      if (!cb) o.notify({ kind: "connection", eventType: "Destroy", resource: name, peerNodeId: peer, old: connState(ca), new: connState(ca) });
    }
    for (const [peer, cb] of rb.connections) {
      const ca = ra.connections.get(peer);
      connectionChanged(ca ? connState(ca) : null, rb, cb, ca ? "Change" : "Create", rec, o);
      for (const [vol, pb] of cb.peerDevices) {
        const pa = ca?.peerDevices.get(vol);
        peerDeviceChanged(pa ? pdState(pa) : null, pa?.done, rb, cb, pb, pa ? "Change" : "Create", rec, o);
      }
    }
  }
  for (const [name, ra] of a.resources) {
    if (!b.resources.has(name)) resourceGone(ra, rec, o);
  }
  return n;
}
