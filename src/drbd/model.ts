// The live DRBD model: resources -> connections -> devices -> peer devices, fed by events2 records.
//
// Every change becomes typed events (SPEC §2 drbd list) and, for plugins that follow drbd-reactor's
// semantics (umh, debugger, promoter), one DrbdUpdate per object whose state changed. Statistics
// (read/written/out-of-sync/done ...) overwrite numbers in place: memory stays flat.
//
// Initial dump and resync: until `exists -` the records describe the state (no events). A restarted
// drbdsetup (the sender's `restart` marker, or an `exists` line after the first `exists -`) starts a
// resync: its dump is built into a shadow state, and at its `exists -` the shadow is diffed against
// the live state, so plugins see real changes only, then DRBD_EVENTS_RESTARTED.
import type { EventDraft, Severity } from "../event.ts";
import type { Events2Record } from "../records.ts";
import { RESTART_VERB } from "./events2.ts";
import { own } from "./intern.ts";
import { Subscriber, type Prepare, type SubscriberOwner, type SubscriberStats } from "./subscribers.ts";

import {
  CONN0, DEV0, PD0, RES0, type ConnectionState, type DeviceState, type DrbdConnection, type DrbdDevice, type DrbdPeerDevice,
  type DrbdResource, type DrbdUpdate, type PeerDeviceState, type ResourceState, type UpdateEventType, type UpdateListener,
} from "./state.ts";
import {
  KNOWN, RESYNC, SPLIT_BRAIN_HELPERS, connSeverity, connState, devState, diskSeverity, getOrAdd, int, newConnection, newDevice,
  newPeerDevice, newResource, pdState, resState, sameState, setConnection, setDevice, setPeerDevice, setResource, yes,
} from "./appliers.ts";
import { resourceJson, resourceText } from "./views.ts";

export * from "./state.ts";
export { ROLES, DISK_STATES, CONNECTION_STATES, REPLICATION_STATES, RESYNC_STATES } from "./appliers.ts";

// ---- the model -------------------------------------------------------------------------------------

type Emit = (d: EventDraft) => void;

class State {
  resources = new Map<string, DrbdResource>();
}

export interface DrbdModelStats {
  records: number;
  ignored: number;
  resyncs: number;
  initialized: boolean;
  resyncing: boolean;
  resources: number;
  /** Values outside the known enums, kept as printed: "disk:Frobnicated" -> count. */
  unknown_values: Record<string, number>;
}

export class DrbdModel {
  private live = new State();
  private shadow: State | null = null;
  private initialized = false;
  private listeners = new Set<Subscriber<DrbdUpdate, DrbdModel, unknown>>();
  private readyListeners = new Set<() => void>();
  private stats = { records: 0, ignored: 0, resyncs: 0 };
  /** Updates notified so far; a resync's change count is its difference. */
  private notified = 0;
  /** Unknown enum values seen, per kind (recorded as printed, also counted here). */
  readonly unknownValues = new Map<string, number>();

  /** Applies one events2 record; emits an event per real change. */
  apply(rec: Events2Record, emit: Emit): void {
    this.stats.records++;
    const { verb, object } = rec;
    if (verb === RESTART_VERB) {
      this.beginResync();
      return;
    }
    if (verb === "exists" && object === "-") {
      this.endDump(rec, emit);
      return;
    }
    // An `exists` after the first dump comes from a new drbdsetup (after `n`, drbdsetup prints changes).
    if (verb === "exists" && this.initialized && !this.shadow) this.beginResync();
    if (this.shadow) {
      this.applyTo(this.shadow, rec, null);
      return;
    }
    this.applyTo(this.live, rec, this.initialized ? emit : null);
  }

  /** The next records are a fresh dump; its `exists -` diffs it against the current state. */
  beginResync(): void {
    if (!this.initialized) {
      // Nothing seen yet, or a dump cut short: start over.
      this.live = new State();
      return;
    }
    this.shadow = new State();
  }

  /** The live resources when a statistics line may bypass apply() (src/drbd/fast.ts): after the
   * first dump and outside a resync; else null. */
  fastResources(): Map<string, DrbdResource> | null {
    return this.initialized && !this.shadow ? this.live.resources : null;
  }

  /** A record the fast lane applied. */
  countFast(): void {
    this.stats.records++;
  }

  /** True once the first initial dump ended (`exists -`). */
  get isInitialized(): boolean {
    return this.initialized;
  }

  /** drbd-reactor style updates (umh, debugger, promoter), delivered from the subscriber's own
   * bounded queue (`owner.queue`, a receiver's defaults otherwise) after the current records;
   * `owner` (a plugin context) is told of drops and throws. Returns an unsubscribe function. */
  subscribe(fn: UpdateListener, opts?: { replay?: boolean; owner?: SubscriberOwner }): () => void;
  /** With `prepare`: it runs at once on each update (the model as it is at that update) and what
   * it returns is queued for `fn`; undefined queues nothing (a filter). */
  subscribe<T>(fn: (item: T, m: DrbdModel) => void, opts: { replay?: boolean; owner?: SubscriberOwner; prepare: Prepare<DrbdUpdate, DrbdModel, T> }): () => void;
  subscribe<T>(
    fn: (item: T, m: DrbdModel) => void,
    opts: { replay?: boolean; owner?: SubscriberOwner; prepare?: Prepare<DrbdUpdate, DrbdModel, T> } = {},
  ): () => void {
    const sub = new Subscriber<DrbdUpdate, DrbdModel, T>(fn, this, opts.owner, opts.prepare) as Subscriber<DrbdUpdate, DrbdModel, unknown>;
    // A plugin started after the first dump (a reload) learns the current state as Exists updates,
    // as drbd-reactor replays its state to new plugins.
    if (opts.replay && this.initialized) for (const r of this.resources()) this.announce(r, (u) => sub.push(u));
    this.listeners.add(sub);
    return () => {
      this.listeners.delete(sub);
      sub.close();
    };
  }

  /** Delivers every subscriber's queued updates now (tests, tools that read updates synchronously). */
  flushSubscribers(): void {
    for (const s of this.listeners) s.drain();
  }

  /** Drops since the last call, per subscriber that dropped (for RECEIVER_DROPPED reports). */
  takeDrops(): { name: string; dropped: number }[] {
    const out: { name: string; dropped: number }[] = [];
    for (const s of this.listeners) {
      if (!s.unreported) continue;
      out.push({ name: s.name, dropped: s.unreported });
      s.unreported = 0;
    }
    return out;
  }

  /** Queue depth, drops, deliveries and handler errors per subscriber. */
  subscribers(): SubscriberStats[] {
    return [...this.listeners].map((s) => s.stats());
  }

  /** Called at the end of every initial dump (first start and each resync). */
  onDump(fn: () => void): () => void {
    this.readyListeners.add(fn);
    return () => void this.readyListeners.delete(fn);
  }

  resource(name: string): DrbdResource | undefined {
    return this.live.resources.get(name);
  }

  resources(): DrbdResource[] {
    return [...this.live.resources.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  status(): DrbdModelStats {
    return {
      ...this.stats, initialized: this.initialized, resyncing: this.shadow !== null, resources: this.live.resources.size,
      unknown_values: Object.fromEntries([...this.unknownValues].filter(([k]) => k.includes(":"))),
    };
  }

  /** The model in the shape and key names of `drbdsetup status --json`. */
  toStatusJson(): unknown[] {
    return this.resources().map(resourceJson);
  }

  /** `drbdsetup status`-like text. */
  toStatusText(): string {
    // drbdsetup ends every resource with an empty line.
    return this.resources().map((r) => resourceText(r) + "\n").join("");
  }

  // ---- internals ---------------------------------------------------------------------------------

  private notify(u: DrbdUpdate): void {
    this.notified++;
    for (const s of this.listeners) s.push(u);
  }

  private endDump(rec: Events2Record, emit: Emit): void {
    if (this.shadow) {
      const next = this.shadow;
      this.shadow = null;
      // The new state is live before the diff tells of it: subscribers (and event consumers)
      // that look at the model see the state the update describes, and a throw leaves it live.
      const prev = this.live;
      this.live = next;
      this.stats.resyncs++;
      const changes = this.diff(prev, next, emit, rec);
      emit({
        severity: "warn", system: "drbd", event_type: "DRBD_EVENTS_RESTARTED", source: rec.source, raw: rec.raw,
        msg: `drbdsetup events2 restarted; state resynchronized with ${changes} change(s)`,
        extension: { changes, resources: next.resources.size },
      });
    } else if (!this.initialized) {
      this.initialized = true;
      // The first dump: plugins learn what exists (drbd-reactor sends Exists updates), no events.
      if (this.listeners.size) for (const r of this.resources()) this.announce(r, (u) => this.notify(u));
    }
    for (const fn of this.readyListeners) fn();
  }

  private announce(r: DrbdResource, to: (u: DrbdUpdate, m: DrbdModel) => void): void {
    to({ kind: "resource", eventType: "Exists", resource: r.name, old: RES0, new: resState(r) }, this);
    for (const d of r.devices.values()) {
      to({ kind: "device", eventType: "Exists", resource: r.name, volume: d.volume, old: DEV0, new: devState(d) }, this);
    }
    for (const c of r.connections.values()) {
      to({ kind: "connection", eventType: "Exists", resource: r.name, peerNodeId: c.peerNodeId, old: CONN0, new: connState(c) }, this);
      for (const p of c.peerDevices.values()) {
        to({
          kind: "peer-device", eventType: "Exists", resource: r.name, volume: p.volume, peerNodeId: c.peerNodeId,
          old: PD0, new: pdState(p),
        }, this);
      }
    }
  }

  private ignore(kind: string): void {
    this.stats.ignored++;
    this.unknownValues.set(kind, (this.unknownValues.get(kind) ?? 0) + 1);
  }

  private checkEnum(kind: string, v: string | undefined): void {
    if (v !== undefined && !KNOWN[kind]!.has(v)) this.unknownValues.set(`${kind}:${v}`, (this.unknownValues.get(`${kind}:${v}`) ?? 0) + 1);
  }

  /** Applies rec to st; emits events and updates when `emit` is set (live, after the first dump). */
  private applyTo(st: State, rec: Events2Record, emit: Emit | null): void {
    const f = rec.fields;
    const name = f.name;
    if (name === undefined) {
      this.ignore("no-name");
      return;
    }
    const verb = rec.verb;
    const et: UpdateEventType = verb === "exists" ? "Exists" : verb === "create" ? "Create" : verb === "destroy" ? "Destroy" : "Change";
    switch (rec.object) {
      case "resource": return this.applyResource(st, rec, name, et, emit);
      case "device": return this.applyDevice(st, rec, name, et, emit);
      case "connection": return this.applyConnection(st, rec, name, et, emit);
      case "peer-device": return this.applyPeerDevice(st, rec, name, et, emit);
      case "path": return this.applyPath(st, rec, name);
      case "helper": if (emit) this.helper(st, rec, name, emit); return;
      default: this.ignore(`object:${rec.object}`);
    }
  }

  private applyResource(st: State, rec: Events2Record, name: string, et: UpdateEventType, emit: Emit | null): void {
    if (rec.verb === "rename") {
      const r = st.resources.get(name);
      const to = rec.fields.new_name;
      if (!r || !to) return;
      st.resources.delete(name);
      r.name = own(to);
      st.resources.set(r.name, r);
      return;
    }
    let r = st.resources.get(name);
    if (et === "Destroy") {
      if (!r) return;
      st.resources.delete(name);
      if (emit) this.resourceGone(r, rec, emit);
      return;
    }
    this.checkEnum("role", rec.fields.role);
    const created = !r;
    r ??= newResource(own(name));
    if (created) st.resources.set(r.name, r);
    const old = created ? null : { state: resState(r), suspended: r.suspended };
    setResource(r, rec.fields);
    if (emit) this.resourceChanged(old, r, created ? (et === "Exists" ? "Exists" : "Create") : et, rec, emit);
  }

  private resourceGone(r: DrbdResource, rec: Events2Record, emit: Emit): void {
    emit(this.draft(rec, "info", "DRBD_RESOURCE_DESTROYED", `DRBD resource ${r.name} destroyed`, { resource: r.name }));
    this.notify({ kind: "resource", eventType: "Destroy", resource: r.name, old: resState(r), new: resState(r) });
  }

  private resourceChanged(
    old: { state: ResourceState; suspended: string } | null, r: DrbdResource, et: UpdateEventType,
    rec: Events2Record, emit: Emit,
  ): void {
    const base = { resource: r.name, may_promote: r.mayPromote, promotion_score: r.promotionScore };
    const now = resState(r);
    if (!old) {
      emit(this.draft(rec, "info", "DRBD_RESOURCE_CREATED", `DRBD resource ${r.name} created (role ${r.role})`, {
        ...base, new_role: r.role,
      }));
    } else {
      if (old.state.role !== r.role) {
        emit(this.draft(rec, "info", "DRBD_ROLE_CHANGED", `DRBD resource ${r.name} role ${old.state.role} -> ${r.role}`, {
          ...base, old_role: old.state.role, new_role: r.role,
        }));
      }
      const wasSusp = yes(old.suspended);
      const isSusp = yes(r.suspended);
      if (!wasSusp && isSusp) {
        emit(this.draft(rec, "error", "DRBD_SUSPENDED", `DRBD resource ${r.name} suspended I/O (${r.suspended})`, {
          ...base, old_suspended: old.suspended, new_suspended: r.suspended,
        }));
      } else if (wasSusp && !isSusp) {
        emit(this.draft(rec, "info", "DRBD_RESUMED", `DRBD resource ${r.name} resumed I/O`, {
          ...base, old_suspended: old.suspended, new_suspended: r.suspended,
        }));
      }
    }
    const prev = old ? old.state : RES0;
    if (!old || !sameState(prev, now)) this.notify({ kind: "resource", eventType: et, resource: r.name, old: prev, new: now });
  }

  private resourceFor(st: State, name: string): DrbdResource {
    return getOrAdd(st.resources, name, (n) => newResource(own(n)), own);
  }

  private applyDevice(st: State, rec: Events2Record, name: string, et: UpdateEventType, emit: Emit | null): void {
    const volume = int(rec.fields.volume);
    if (volume === undefined) return this.ignore("device-no-volume");
    const r = et === "Destroy" ? st.resources.get(name) : this.resourceFor(st, name);
    if (!r) return;
    let d = r.devices.get(volume);
    if (et === "Destroy") {
      if (!d) return;
      r.devices.delete(volume);
      if (emit) this.notify({ kind: "device", eventType: "Destroy", resource: name, volume, old: devState(d), new: devState(d) });
      return;
    }
    this.checkEnum("disk", rec.fields.disk);
    const created = !d;
    d ??= newDevice(volume);
    if (created) r.devices.set(volume, d);
    const prev = created ? DEV0 : devState(d);
    setDevice(d, rec.fields);
    if (emit) this.deviceChanged(created ? null : prev, r, d, et, rec, emit);
  }

  private deviceChanged(old: DeviceState | null, r: DrbdResource, d: DrbdDevice, et: UpdateEventType, rec: Events2Record, emit: Emit): void {
    const now = devState(d);
    const dev = d.minor >= 0 ? `drbd${d.minor}` : "";
    const ext = { resource: r.name, volume: d.volume, minor: d.minor, backing_dev: d.backingDev };
    if (old) {
      if (old["disk-state"] !== d.disk) {
        emit(this.draft(rec, diskSeverity(d.disk, d.client), "DRBD_DISK_STATE_CHANGED",
          `DRBD ${r.name}/${d.volume} disk ${old["disk-state"]} -> ${d.disk}`,
          { ...ext, old_disk_state: old["disk-state"], new_disk_state: d.disk, client: d.client }, dev));
      }
      if (old.quorum && !d.quorum) {
        emit(this.draft(rec, "error", "DRBD_QUORUM_LOST", `DRBD ${r.name}/${d.volume} lost quorum`,
          { ...ext, old_quorum: true, new_quorum: false }, dev));
      } else if (!old.quorum && d.quorum) {
        emit(this.draft(rec, "info", "DRBD_QUORUM_REGAINED", `DRBD ${r.name}/${d.volume} regained quorum`,
          { ...ext, old_quorum: false, new_quorum: true }, dev));
      }
    }
    const prev = old ?? DEV0;
    if (!old || !sameState(prev, now)) {
      this.notify({ kind: "device", eventType: old ? et : (et === "Exists" ? "Exists" : "Create"), resource: r.name, volume: d.volume, old: prev, new: now });
    }
  }

  private connectionFor(r: DrbdResource, peer: number): DrbdConnection {
    return getOrAdd(r.connections, peer, newConnection);
  }

  private applyConnection(st: State, rec: Events2Record, name: string, et: UpdateEventType, emit: Emit | null): void {
    const peer = int(rec.fields["peer-node-id"]);
    if (peer === undefined) return this.ignore("connection-no-peer");
    const r = et === "Destroy" ? st.resources.get(name) : this.resourceFor(st, name);
    if (!r) return;
    let c = r.connections.get(peer);
    if (et === "Destroy") {
      if (!c) return;
      r.connections.delete(peer);
      if (emit) {
        this.notify({ kind: "connection", eventType: "Destroy", resource: name, peerNodeId: peer, old: connState(c), new: connState(c) });
      }
      return;
    }
    this.checkEnum("connection", rec.fields.connection);
    this.checkEnum("role", rec.fields.role);
    const created = !c;
    c ??= this.connectionFor(r, peer);
    const prev = created ? CONN0 : connState(c);
    setConnection(c, rec.fields);
    if (emit) this.connectionChanged(created ? null : prev, r, c, et, rec, emit);
  }

  private connectionChanged(
    old: ConnectionState | null, r: DrbdResource, c: DrbdConnection, et: UpdateEventType, rec: Events2Record, emit: Emit,
  ): void {
    const now = connState(c);
    const ext = { resource: r.name, peer: c.peerNodeId, conn_name: c.connName };
    if (old) {
      if (old["connection-state"] !== c.connection) {
        emit(this.draft(rec, connSeverity(c.connection), "DRBD_CONNECTION_STATE_CHANGED",
          `DRBD ${r.name} connection to ${c.connName || c.peerNodeId} ${old["connection-state"]} -> ${c.connection}`,
          { ...ext, old_connection_state: old["connection-state"], new_connection_state: c.connection }));
      }
      // The peer became Primary or Secondary (from Unknown too, as it connects); its going Unknown
      // is the connection's change, already reported above.
      if (old["peer-role"] !== c.peerRole && c.peerRole !== "Unknown") {
        emit(this.draft(rec, "info", "DRBD_PEER_ROLE_CHANGED",
          `DRBD ${r.name} peer ${c.connName || c.peerNodeId} role ${old["peer-role"]} -> ${c.peerRole}`,
          { ...ext, old_role: old["peer-role"], new_role: c.peerRole }));
      }
    }
    const prev = old ?? CONN0;
    if (!old || !sameState(prev, now)) {
      this.notify({
        kind: "connection", eventType: old ? et : (et === "Exists" ? "Exists" : "Create"), resource: r.name,
        peerNodeId: c.peerNodeId, old: prev, new: now,
      });
    }
  }

  private applyPeerDevice(st: State, rec: Events2Record, name: string, et: UpdateEventType, emit: Emit | null): void {
    const peer = int(rec.fields["peer-node-id"]);
    const volume = int(rec.fields.volume);
    if (peer === undefined || volume === undefined) return this.ignore("peer-device-no-id");
    const r = et === "Destroy" ? st.resources.get(name) : this.resourceFor(st, name);
    if (!r) return;
    const c = et === "Destroy" ? r.connections.get(peer) : this.connectionFor(r, peer);
    if (!c) return;
    let p = c.peerDevices.get(volume);
    if (et === "Destroy") {
      if (!p) return;
      c.peerDevices.delete(volume);
      if (emit) {
        this.notify({
          kind: "peer-device", eventType: "Destroy", resource: name, volume, peerNodeId: peer, old: pdState(p), new: pdState(p),
        });
      }
      return;
    }
    this.checkEnum("replication", rec.fields.replication);
    this.checkEnum("disk", rec.fields["peer-disk"]);
    if (rec.fields["conn-name"] && !c.connName) c.connName = own(rec.fields["conn-name"]);
    const created = !p;
    p ??= newPeerDevice(volume);
    if (created) c.peerDevices.set(volume, p);
    const prev = created ? PD0 : pdState(p);
    const prevDone = p.done;
    setPeerDevice(p, rec.fields, "received" in rec.fields);
    if (emit) this.peerDeviceChanged(created ? null : prev, prevDone, r, c, p, et, rec, emit);
  }

  private peerDeviceChanged(
    old: PeerDeviceState | null, prevDone: number | undefined, r: DrbdResource, c: DrbdConnection, p: DrbdPeerDevice,
    et: UpdateEventType, rec: Events2Record, emit: Emit,
  ): void {
    const now = pdState(p);
    const d = r.devices.get(p.volume);
    const dev = d && d.minor >= 0 ? `drbd${d.minor}` : "";
    const ext = { resource: r.name, volume: p.volume, peer: c.peerNodeId, conn_name: c.connName };
    if (old) {
      const was = old["replication-state"];
      const is = p.replication;
      if (was !== is) {
        const leftSync = RESYNC.has(was) && !RESYNC.has(is) && is !== "Established";
        emit(this.draft(rec, is === "Ahead" || is === "Behind" || leftSync ? "warn" : "info", "DRBD_REPLICATION_STATE_CHANGED",
          `DRBD ${r.name}/${p.volume} replication to ${c.connName || c.peerNodeId} ${was} -> ${is}`,
          { ...ext, old_replication_state: was, new_replication_state: is }, dev));
        if (RESYNC.has(is) && !RESYNC.has(was)) {
          emit(this.draft(rec, "info", "DRBD_RESYNC_STARTED",
            `DRBD ${r.name}/${p.volume} resync ${is === "SyncTarget" || is === "PausedSyncT" ? "from" : "to"} ${c.connName || c.peerNodeId} started`,
            { ...ext, old_replication_state: was, new_replication_state: is, out_of_sync: p.outOfSync }, dev));
        } else if (RESYNC.has(was) && is === "Established") {
          emit(this.draft(rec, "info", "DRBD_RESYNC_DONE", `DRBD ${r.name}/${p.volume} resync with ${c.connName || c.peerNodeId} done`,
            { ...ext, old_replication_state: was, new_replication_state: is, last_done: prevDone ?? null }, dev));
        }
      }
      if (old["peer-disk-state"] !== p.peerDisk) {
        emit(this.draft(rec, diskSeverity(p.peerDisk, p.peerClient), "DRBD_PEER_DISK_STATE_CHANGED",
          `DRBD ${r.name}/${p.volume} peer ${c.connName || c.peerNodeId} disk ${old["peer-disk-state"]} -> ${p.peerDisk}`,
          { ...ext, old_peer_disk_state: old["peer-disk-state"], new_peer_disk_state: p.peerDisk, peer_client: p.peerClient }, dev));
      }
    }
    const prev = old ?? PD0;
    if (!old || !sameState(prev, now)) {
      this.notify({
        kind: "peer-device", eventType: old ? et : (et === "Exists" ? "Exists" : "Create"), resource: r.name,
        volume: p.volume, peerNodeId: c.peerNodeId, old: prev, new: now,
      });
    }
  }

  private applyPath(st: State, rec: Events2Record, name: string): void {
    const peer = int(rec.fields["peer-node-id"]);
    const { local, peer: remote } = rec.fields;
    if (peer === undefined || local === undefined || remote === undefined) return this.ignore("path-no-id");
    const key = `${local} ${remote}`;
    if (rec.verb === "destroy") {
      st.resources.get(name)?.connections.get(peer)?.paths.delete(key);
      return;
    }
    const c = this.connectionFor(this.resourceFor(st, name), peer);
    if (rec.fields["conn-name"] && !c.connName) c.connName = own(rec.fields["conn-name"]);
    let p = c.paths.get(key);
    if (!p) {
      p = { local: own(local), peer: own(remote), established: false };
      c.paths.set(key, p);
    }
    if (rec.fields.established !== undefined) p.established = yes(rec.fields.established);
  }

  private helper(st: State, rec: Events2Record, name: string, emit: Emit): void {
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
      emit(this.draft(rec, "error", "DRBD_SPLIT_BRAIN", `DRBD ${name}${volume !== undefined ? `/${volume}` : ""} split-brain detected with ${to}`, ext, dev));
    } else if (helper === "fence-peer") {
      emit(this.draft(rec, "warn", "DRBD_FENCE_PEER", `DRBD ${name} fences ${to}`, ext, dev));
    }
    void st;
  }

  private draft(rec: Events2Record, severity: Severity, type: string, msg: string, extension: Record<string, unknown>, dev = ""): EventDraft {
    const d: EventDraft = { severity, system: "drbd", event_type: type, msg, extension, raw: rec.raw, source: rec.source };
    if (dev) {
      d.dev_name = dev;
      d.dev_path = `/dev/${dev}`;
    }
    if (rec.time_us !== undefined) d.time_us = rec.time_us;
    return d;
  }

  /** Diff of two states as events and updates (a resync); returns the number of object changes. */
  private diff(a: State, b: State, emit: Emit, rec: Events2Record): number {
    // (Once this swapped this.notify for a counting wrapper and "restored" a bound copy: every
    // drbdsetup restart added a layer, a leak and a slower notify. The counter needs no swap.)
    const before = this.notified;
    for (const [name, rb] of b.resources) {
      const ra = a.resources.get(name);
      if (!ra) {
        this.resourceChanged(null, rb, "Create", rec, emit);
        for (const d of rb.devices.values()) this.deviceChanged(null, rb, d, "Create", rec, emit);
        for (const c of rb.connections.values()) {
          this.connectionChanged(null, rb, c, "Create", rec, emit);
          for (const p of c.peerDevices.values()) this.peerDeviceChanged(null, undefined, rb, c, p, "Create", rec, emit);
        }
        continue;
      }
      this.resourceChanged({ state: resState(ra), suspended: ra.suspended }, rb, "Change", rec, emit);
      for (const [vol, da] of ra.devices) {
        if (!rb.devices.has(vol)) this.notify({ kind: "device", eventType: "Destroy", resource: name, volume: vol, old: devState(da), new: devState(da) });
      }
      for (const [vol, db] of rb.devices) {
        const da = ra.devices.get(vol);
        this.deviceChanged(da ? devState(da) : null, rb, db, da ? "Change" : "Create", rec, emit);
      }
      for (const [peer, ca] of ra.connections) {
        const cb = rb.connections.get(peer);
        for (const [vol, pa] of ca.peerDevices) {
          if (!cb?.peerDevices.has(vol)) {
            this.notify({ kind: "peer-device", eventType: "Destroy", resource: name, volume: vol, peerNodeId: peer, old: pdState(pa), new: pdState(pa) });
          }
        }
        if (!cb) this.notify({ kind: "connection", eventType: "Destroy", resource: name, peerNodeId: peer, old: connState(ca), new: connState(ca) });
      }
      for (const [peer, cb] of rb.connections) {
        const ca = ra.connections.get(peer);
        this.connectionChanged(ca ? connState(ca) : null, rb, cb, ca ? "Change" : "Create", rec, emit);
        for (const [vol, pb] of cb.peerDevices) {
          const pa = ca?.peerDevices.get(vol);
          this.peerDeviceChanged(pa ? pdState(pa) : null, pa?.done, rb, cb, pb, pa ? "Change" : "Create", rec, emit);
        }
      }
    }
    for (const [name, ra] of a.resources) {
      if (!b.resources.has(name)) this.resourceGone(ra, rec, emit);
    }
    return this.notified - before;
  }
}
