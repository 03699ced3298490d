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
import { edenGC } from "bun:jsc";
import type { Events2Record } from "../records.ts";
import { applyRecord, type Tally } from "./apply.ts";
import { connState, devState, pdState, resState } from "./appliers.ts";
import type { Emit, Out } from "./changes.ts";
import { diffStates } from "./diff.ts";
import { RESTART_VERB } from "./events2.ts";
import { Subscriber, type Prepare, type SubscriberOwner, type SubscriberStats } from "./subscribers.ts";
import { CONN0, DEV0, PD0, RES0, ModelState, type DrbdResource, type DrbdUpdate, type UpdateListener } from "./state.ts";
import { resourceJson, resourceText } from "./views.ts";

export * from "./state.ts";
export { ROLES, DISK_STATES, CONNECTION_STATES, REPLICATION_STATES, RESYNC_STATES } from "./appliers.ts";

// ---- the model -------------------------------------------------------------------------------------

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
  private live = new ModelState();
  private shadow: ModelState | null = null;
  private initialized = false;
  private listeners = new Set<Subscriber<DrbdUpdate, DrbdModel, unknown>>();
  private readyListeners = new Set<() => void>();
  private stats = { records: 0, ignored: 0, resyncs: 0 };
  /** Unknown enum values seen, per kind (recorded as printed, also counted here). */
  readonly unknownValues = new Map<string, number>();
  private readonly tally: Tally = { stats: this.stats, unknownValues: this.unknownValues };
  /** The one Out handed to the appliers and the diff; its emit is set around each call and put
   * back after (a nested apply cannot redirect a change in progress), so no object per record. */
  private readonly sink: Out = { emit: () => {}, notify: (u) => this.notify(u) };

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
      applyRecord(this.shadow, rec, null, this.tally);
      return;
    }
    if (!this.initialized) return applyRecord(this.live, rec, null, this.tally);
    const was = this.sink.emit;
    this.sink.emit = emit;
    try {
      applyRecord(this.live, rec, this.sink, this.tally);
    } finally {
      this.sink.emit = was;
    }
  }

  /** The next records are a fresh dump; its `exists -` diffs it against the current state. */
  beginResync(): void {
    if (!this.initialized) {
      // Nothing seen yet, or a dump cut short: start over.
      this.live = new ModelState();
      return;
    }
    this.shadow = new ModelState();
  }

  /** The live resources when a statistics line may bypass apply() (src/drbd/fast.ts): after the
   * first dump and outside a resync; else null. */
  fastState(): ModelState | null {
    return this.initialized && !this.shadow ? this.live : null;
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

  private endDump(rec: Events2Record, emit: Emit): void {
    if (this.shadow) {
      const next = this.shadow;
      this.shadow = null;
      // The new state is live before the diff tells of it: subscribers (and event consumers)
      // that look at the model see the state the update describes, and a throw leaves it live.
      const prev = this.live;
      this.live = next;
      this.stats.resyncs++;
      const was = this.sink.emit;
      this.sink.emit = emit;
      let changes: number;
      try {
        changes = diffStates(prev, next, rec, this.sink);
      } finally {
        this.sink.emit = was;
      }
      emit({
        severity: "warn", system: "drbd", event_type: "DRBD_EVENTS_RESTARTED", source: rec.source, raw: rec.raw,
        msg: `drbdsetup events2 restarted; state resynchronized with ${changes} change(s)`,
        extension: { changes, resources: next.resources.size },
      });
    } else if (!this.initialized) {
      this.initialized = true;
      // The first dump: plugins learn what exists (drbd-reactor sends Exists updates), no events.
      // 10 000 resources are ~75 000 updates at once: a young-generation collection every 1024
      // resources keeps them from growing the heap (see EDEN_EVERY in events2.ts).
      let n = 0;
      for (const r of this.listeners.size ? this.resources() : []) {
        this.announce(r, (u) => this.notify(u));
        if (++n % 1024 === 0) edenGC();
      }
    }
    for (const fn of this.readyListeners) fn();
  }

  private notify(u: DrbdUpdate): void {
    for (const s of this.listeners) s.push(u);
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
}
