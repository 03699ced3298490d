// What one object's change means: the typed DRBD_* events (SPEC §2 drbd list) and the drbd-reactor
// style update, from its state before (null: new) and the object as it is now. The live appliers
// (apply.ts) and the resync diff (diff.ts) both go through these, so a change reads the same either way.
import type { EventDraft, Severity } from "../event.ts";
import type { Events2Record } from "../records.ts";
import { RESYNC, connSeverity, connState, devState, diskSeverity, pdState, resState, sameState, yes } from "./appliers.ts";
import {
  CONN0, DEV0, PD0, RES0, type ConnectionState, type DeviceState, type DrbdConnection, type DrbdDevice, type DrbdPeerDevice,
  type DrbdResource, type DrbdUpdate, type PeerDeviceState, type ResourceState, type UpdateEventType,
} from "./state.ts";

export type Emit = (d: EventDraft) => void;

/** Where a change goes: events to `emit`, updates to the model's subscribers. */
export interface Out {
  emit: Emit;
  notify(u: DrbdUpdate): void;
}

export function draft(rec: Events2Record, severity: Severity, type: string, msg: string, extension: Record<string, unknown>, dev = ""): EventDraft {
  const d: EventDraft = { severity, system: "drbd", event_type: type, msg, extension, raw: rec.raw, source: rec.source };
  if (dev) {
    d.dev_name = dev;
    d.dev_path = `/dev/${dev}`;
  }
  if (rec.time_us !== undefined) d.time_us = rec.time_us;
  return d;
}

export function resourceGone(r: DrbdResource, rec: Events2Record, out: Out): void {
  out.emit(draft(rec, "info", "DRBD_RESOURCE_DESTROYED", `DRBD resource ${r.name} destroyed`, { resource: r.name }));
  out.notify({ kind: "resource", eventType: "Destroy", resource: r.name, old: resState(r), new: resState(r) });
}

export function resourceChanged(
  old: { state: ResourceState; suspended: string } | null, r: DrbdResource, et: UpdateEventType, rec: Events2Record, out: Out,
): void {
  const emit = out.emit;
  const base = { resource: r.name, may_promote: r.mayPromote, promotion_score: r.promotionScore };
  const now = resState(r);
  if (!old) {
    emit(draft(rec, "info", "DRBD_RESOURCE_CREATED", `DRBD resource ${r.name} created (role ${r.role})`, {
      ...base, new_role: r.role,
    }));
  } else {
    if (old.state.role !== r.role) {
      emit(draft(rec, "info", "DRBD_ROLE_CHANGED", `DRBD resource ${r.name} role ${old.state.role} -> ${r.role}`, {
        ...base, old_role: old.state.role, new_role: r.role,
      }));
    }
    const wasSusp = yes(old.suspended);
    const isSusp = yes(r.suspended);
    if (!wasSusp && isSusp) {
      emit(draft(rec, "error", "DRBD_SUSPENDED", `DRBD resource ${r.name} suspended I/O (${r.suspended})`, {
        ...base, old_suspended: old.suspended, new_suspended: r.suspended,
      }));
    } else if (wasSusp && !isSusp) {
      emit(draft(rec, "info", "DRBD_RESUMED", `DRBD resource ${r.name} resumed I/O`, {
        ...base, old_suspended: old.suspended, new_suspended: r.suspended,
      }));
    }
  }
  const prev = old ? old.state : RES0;
  if (!old || !sameState(prev, now)) out.notify({ kind: "resource", eventType: et, resource: r.name, old: prev, new: now });
}

export function deviceChanged(old: DeviceState | null, r: DrbdResource, d: DrbdDevice, et: UpdateEventType, rec: Events2Record, out: Out): void {
  const emit = out.emit;
  const now = devState(d);
  const dev = d.minor >= 0 ? `drbd${d.minor}` : "";
  const ext = { resource: r.name, volume: d.volume, minor: d.minor, backing_dev: d.backingDev };
  if (old) {
    if (old["disk-state"] !== d.disk) {
      emit(draft(rec, diskSeverity(d.disk, d.client), "DRBD_DISK_STATE_CHANGED",
        `DRBD ${r.name}/${d.volume} disk ${old["disk-state"]} -> ${d.disk}`,
        { ...ext, old_disk_state: old["disk-state"], new_disk_state: d.disk, client: d.client }, dev));
    }
    if (old.quorum && !d.quorum) {
      emit(draft(rec, "error", "DRBD_QUORUM_LOST", `DRBD ${r.name}/${d.volume} lost quorum`,
        { ...ext, old_quorum: true, new_quorum: false }, dev));
    } else if (!old.quorum && d.quorum) {
      emit(draft(rec, "info", "DRBD_QUORUM_REGAINED", `DRBD ${r.name}/${d.volume} regained quorum`,
        { ...ext, old_quorum: false, new_quorum: true }, dev));
    }
  }
  const prev = old ?? DEV0;
  if (!old || !sameState(prev, now)) {
    out.notify({ kind: "device", eventType: old ? et : (et === "Exists" ? "Exists" : "Create"), resource: r.name, volume: d.volume, old: prev, new: now });
  }
}

export function connectionChanged(
  old: ConnectionState | null, r: DrbdResource, c: DrbdConnection, et: UpdateEventType, rec: Events2Record, out: Out,
): void {
  const emit = out.emit;
  const now = connState(c);
  const ext = { resource: r.name, peer: c.peerNodeId, conn_name: c.connName };
  if (old) {
    if (old["connection-state"] !== c.connection) {
      emit(draft(rec, connSeverity(c.connection), "DRBD_CONNECTION_STATE_CHANGED",
        `DRBD ${r.name} connection to ${c.connName || c.peerNodeId} ${old["connection-state"]} -> ${c.connection}`,
        { ...ext, old_connection_state: old["connection-state"], new_connection_state: c.connection }));
    }
    // The peer became Primary or Secondary (from Unknown too, as it connects); its going Unknown
    // is the connection's change, already reported above.
    if (old["peer-role"] !== c.peerRole && c.peerRole !== "Unknown") {
      emit(draft(rec, "info", "DRBD_PEER_ROLE_CHANGED",
        `DRBD ${r.name} peer ${c.connName || c.peerNodeId} role ${old["peer-role"]} -> ${c.peerRole}`,
        { ...ext, old_role: old["peer-role"], new_role: c.peerRole }));
    }
  }
  const prev = old ?? CONN0;
  if (!old || !sameState(prev, now)) {
    out.notify({
      kind: "connection", eventType: old ? et : (et === "Exists" ? "Exists" : "Create"), resource: r.name,
      peerNodeId: c.peerNodeId, old: prev, new: now,
    });
  }
}

export function peerDeviceChanged(
  old: PeerDeviceState | null, prevDone: number | undefined, r: DrbdResource, c: DrbdConnection, p: DrbdPeerDevice,
  et: UpdateEventType, rec: Events2Record, out: Out,
): void {
  const emit = out.emit;
  const now = pdState(p);
  const d = r.devices.get(p.volume);
  const dev = d && d.minor >= 0 ? `drbd${d.minor}` : "";
  const ext = { resource: r.name, volume: p.volume, peer: c.peerNodeId, conn_name: c.connName };
  if (old) {
    const was = old["replication-state"];
    const is = p.replication;
    if (was !== is) {
      const leftSync = RESYNC.has(was) && !RESYNC.has(is) && is !== "Established";
      emit(draft(rec, is === "Ahead" || is === "Behind" || leftSync ? "warn" : "info", "DRBD_REPLICATION_STATE_CHANGED",
        `DRBD ${r.name}/${p.volume} replication to ${c.connName || c.peerNodeId} ${was} -> ${is}`,
        { ...ext, old_replication_state: was, new_replication_state: is }, dev));
      if (RESYNC.has(is) && !RESYNC.has(was)) {
        emit(draft(rec, "info", "DRBD_RESYNC_STARTED",
          `DRBD ${r.name}/${p.volume} resync ${is === "SyncTarget" || is === "PausedSyncT" ? "from" : "to"} ${c.connName || c.peerNodeId} started`,
          { ...ext, old_replication_state: was, new_replication_state: is, out_of_sync: p.outOfSync }, dev));
      } else if (RESYNC.has(was) && is === "Established") {
        emit(draft(rec, "info", "DRBD_RESYNC_DONE", `DRBD ${r.name}/${p.volume} resync with ${c.connName || c.peerNodeId} done`,
          { ...ext, old_replication_state: was, new_replication_state: is, last_done: prevDone ?? null }, dev));
      }
    }
    if (old["peer-disk-state"] !== p.peerDisk) {
      emit(draft(rec, diskSeverity(p.peerDisk, p.peerClient), "DRBD_PEER_DISK_STATE_CHANGED",
        `DRBD ${r.name}/${p.volume} peer ${c.connName || c.peerNodeId} disk ${old["peer-disk-state"]} -> ${p.peerDisk}`,
        { ...ext, old_peer_disk_state: old["peer-disk-state"], new_peer_disk_state: p.peerDisk, peer_client: p.peerClient }, dev));
    }
  }
  const prev = old ?? PD0;
  if (!old || !sameState(prev, now)) {
    out.notify({
      kind: "peer-device", eventType: old ? et : (et === "Exists" ? "Exists" : "Create"), resource: r.name,
      volume: p.volume, peerNodeId: c.peerNodeId, old: prev, new: now,
    });
  }
}
