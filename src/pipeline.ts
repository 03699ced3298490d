// The pipeline: senders -> parsers (and the DRBD model) -> fold -> router -> receivers.
// `apply(config)` diffs instance sets (same name + same config = kept running), so it serves the
// first start, reload, and replay alike.
import * as v from "valibot";
import { formatTime, nowUs, type EventDraft, type StorageEvent } from "./event.ts";
import type {
  AnyPluginDef, BaseContext, DeviceDirectory, Parser, PluginKind, Receiver, Sender, SenderContext,
} from "./plugin-api.ts";
import type { RawRecord } from "./records.ts";
import type { Config, InstanceConfig } from "./config/load.ts";
import type { Registry } from "./registry.ts";
import type { RootLog } from "./util/log.ts";
import type { ServiceMap } from "./util/services.ts";
import type { NativeAddon } from "./native.ts";
import { DrbdModel } from "./drbd/model.ts";
import { within } from "./util/timeout.ts";
import { Folder } from "./router/fold.ts";
import { ConfigError } from "./config/issues.ts";
import { compileFilter } from "./router/filter.ts";
import { ReceiverSlot, Router } from "./router/router.ts";
import type { InstanceStatus } from "./daemon-api.ts";

export interface PipelineOptions {
  registry: Registry;
  log: RootLog;
  devices: DeviceDirectory;
  services: ServiceMap;
  native: NativeAddon | null;
  /** replay: no senders run, parsers flush only at the end. */
  mode: "daemon" | "replay";
}

interface Running {
  inst: InstanceConfig;
  counters: Map<string, number>;
  abort: AbortController;
  sender?: Sender;
  senderDone?: Promise<void>;
  parser?: Parser;
  slot?: ReceiverSlot;
  ready: boolean;
}

export interface ApplyResult {
  started: string[];
  stopped: string[];
  kept: string[];
}

const DROP_REPORT_MS = 1000;

export class Pipeline {
  readonly router = new Router();
  readonly drbd = new DrbdModel();
  readonly counters = new Map<string, number>();
  private folder: Folder;
  private running = new Map<string, Running>();
  private listeners = new Set<(e: StorageEvent) => void>();
  private hostname = "";
  private stateDir = "";
  private lastDropReport = 0;
  /** Senders whose events fold (their plugin declares foldRepeats), whatever their instance name. */
  private foldSources = new Set<string>();
  /** Replay's fold clock: the recorded events' times (ms), never going back. */
  private replayClockMs = 0;
  private holdMaxMs = 250;
  /** One timer on the earliest parser hold deadline (live only). */
  private holdTimer: ReturnType<typeof setTimeout> | undefined;
  private holdDueMs = Infinity;
  private stopping = false;
  private readyWaiters: (() => void)[] = [];

  constructor(private opts: PipelineOptions) {
    this.folder = new Folder(5000, (e) => this.deliver(e));
    opts.services.provide("drbd.model", this.drbd);
  }

  count(name: string, n = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  /** Starts, keeps and stops instances so that the running set matches `cfg`. Creation errors
   * (config errors a schema cannot see) abort the whole apply before anything is stopped. */
  async apply(cfg: Config): Promise<ApplyResult> {
    this.hostname = cfg.main.hostname;
    this.stateDir = cfg.main.state_dir;
    this.folder.setWindow(cfg.main.dedup_window);
    this.holdMaxMs = cfg.main.hold_max;
    const wanted = this.withImplicitParsers(cfg);
    const keep = new Set<string>();
    const fresh: Running[] = [];
    try {
      for (const inst of wanted) {
        const cur = this.running.get(inst.name);
        if (cur && cur.inst.fingerprint === inst.fingerprint) {
          keep.add(inst.name);
          continue;
        }
        fresh.push(await this.create(inst));
      }
    } catch (e) {
      for (const r of fresh) r.abort.abort();
      await Promise.all(fresh.map((r) => this.closeCreated(r)));
      throw e;
    }
    const stopped = [...this.running.keys()].filter((n) => !keep.has(n));
    await Promise.all(stopped.map((n) => this.stopInstance(n, 5000)));
    for (const r of fresh) await this.startInstance(r);
    return { started: fresh.map((r) => r.inst.name), stopped, kept: [...keep] };
  }

  /** A config that names no parser runs every parser (SPEC §4). */
  private withImplicitParsers(cfg: Config): InstanceConfig[] {
    if (cfg.instances.some((i) => i.kind === "parser")) return cfg.instances;
    const implicit = this.opts.registry.list("parser").map((def) => ({
      name: def.name, kind: "parser" as PluginKind, plugin: def.name, def, options: v.parse(def.schema, {}), raw: {},
      queue: { max_events: 1, when_full: "drop_oldest" as const, batch: 1 }, file: "(implicit)",
      fingerprint: `implicit:${def.name}`,
    }));
    return [...cfg.instances, ...implicit];
  }

  private async create(inst: InstanceConfig): Promise<Running> {
    const r: Running = { inst, counters: new Map(), abort: new AbortController(), ready: false };
    const log = this.opts.log.child(inst.name);
    const base: BaseContext = {
      instance: inst.name, plugin: inst.plugin, hostname: this.hostname, stateDir: this.stateDir, log,
      count: (name, n = 1) => void r.counters.set(name, (r.counters.get(name) ?? 0) + n),
      native: this.opts.native, devices: this.opts.devices, services: this.opts.services, signal: r.abort.signal,
      emitEvent: (d) => this.emitDraft(d, undefined, inst.name),
    };
    const def = inst.def as AnyPluginDef;
    try {
      if (inst.kind === "sender") {
        const ctx: SenderContext = {
          ...base,
          emit: (rec) => this.handleRecord(rec),
          // Stopping: the held reports are flushed to the router right after the senders stop.
          oldestHeld: () => (this.stopping ? undefined : this.oldestHeld(inst.name)),
          ready: () => {
            r.ready = true;
            this.checkReady();
          },
        };
        r.sender = (await def.create(inst.options, ctx as never)) as Sender;
      } else if (inst.kind === "parser") {
        r.parser = (await def.create(inst.options, { ...base, holdMaxMs: this.holdMaxMs } as never)) as Parser;
      } else {
        const receiver = (await def.create(inst.options, base as never)) as Receiver;
        r.slot = new ReceiverSlot(inst.name, receiver, compileFilter(inst.filter), inst.queue, log);
      }
    } catch (e) {
      // create() only builds (PluginDef.create): what it rejects is the configuration (exit 2).
      throw new ConfigError([{ file: inst.file, line: inst.line, scope: `[${inst.name}]`, key: [], message: `${(e as Error).message ?? e}` }]);
    }
    return r;
  }

  private async startInstance(r: Running): Promise<void> {
    await (r.sender ?? r.parser ?? r.slot?.receiver)?.start?.();
    this.running.set(r.inst.name, r);
    if (r.sender && (r.inst.def as AnyPluginDef).foldRepeats) this.foldSources.add(r.inst.name);
    if (r.slot) this.router.add(r.slot);
    if (r.sender && this.opts.mode === "daemon") {
      const log = this.opts.log.child(r.inst.name);
      r.senderDone = r.sender.run().catch((e) => {
        this.count("sender_failures");
        log.error(`stopped: ${(e as Error).message ?? e}`);
      });
    }
  }

  private async closeCreated(r: Running): Promise<void> {
    await r.sender?.close?.();
    await r.slot?.receiver.close?.();
  }

  private async stopInstance(name: string, timeoutMs: number): Promise<void> {
    const r = this.running.get(name);
    if (!r) return;
    this.running.delete(name);
    this.foldSources.delete(name);
    r.abort.abort();
    if (r.sender) {
      await r.sender.close?.();
      if (!(await within(r.senderDone, timeoutMs))) this.opts.log.child(name).warn(`did not stop within ${timeoutMs} ms`);
    }
    if (r.parser) r.parser.flush?.((d) => this.emitDraft(d, undefined, name), true);
    if (r.slot) {
      this.router.remove(name);
      await r.slot.close(timeoutMs);
    }
  }

  /** One raw record from a sender (or replay) into every parser that takes its kind. */
  handleRecord(rec: RawRecord): void {
    this.count("records");
    if (rec.kind === "events2") this.guard("drbd", () => this.drbd.apply(rec, (d) => this.emitDraft(d, rec)));
    for (const r of this.running.values()) {
      const p = r.parser;
      if (!p || !p.accepts.includes(rec.kind)) continue;
      this.guard(r.inst.name, () => p.parse(rec, (d) => this.emitDraft(d, rec, r.inst.name)), r);
    }
    if (this.opts.mode === "daemon") this.armHold();
  }

  /** Arms the hold timer on the earliest deadline any parser reports, if earlier than the armed one. */
  private armHold(): void {
    const now = performance.now();
    let due = Infinity;
    for (const r of this.running.values()) {
      const inMs = r.parser?.nextFlushIn?.();
      if (inMs !== undefined) due = Math.min(due, now + Math.max(0, inMs));
    }
    if (due >= this.holdDueMs) return;
    clearTimeout(this.holdTimer);
    this.holdDueMs = due;
    this.holdTimer = setTimeout(() => this.onHoldDue(), Math.max(1, due - now)); // >= 1 ms: a parser that stays due cannot spin
  }

  private onHoldDue(): void {
    this.holdTimer = undefined;
    this.holdDueMs = Infinity;
    for (const r of this.running.values()) {
      const p = r.parser;
      const inMs = p?.nextFlushIn?.();
      if (!p?.flush || inMs === undefined || inMs > 0) continue;
      this.guard(r.inst.name, () => p.flush!((d) => this.emitDraft(d, undefined, r.inst.name), false), r);
    }
    this.armHold();
  }

  /** The lowest kmsg seq of `source` that a parser still holds (the sender's cursor stays before it). */
  oldestHeld(source: string): number | undefined {
    let min: number | undefined;
    for (const r of this.running.values()) {
      const seq = r.parser?.oldestHeld?.(source);
      if (seq !== undefined && (min === undefined || seq < min)) min = seq;
    }
    return min;
  }

  private guard(name: string, f: () => void, r?: Running): void {
    try {
      f();
    } catch (e) {
      this.count("parser_errors");
      r?.counters.set("errors", (r.counters.get("errors") ?? 0) + 1);
      this.opts.log.child(name).once("parser-error", `failed on a record: ${(e as Error).message ?? e}`);
    }
  }

  /** Completes a draft (id, time, host, identity, source, raw) and publishes it. */
  emitDraft(d: EventDraft, rec?: RawRecord, instance?: string): void {
    const id = d.dev_name ? this.opts.devices.identify(d.dev_name) : undefined;
    const e: StorageEvent = {
      event_id: crypto.randomUUID(),
      time: formatTime(d.time_us ?? rec?.time_us ?? nowUs()),
      hostname: this.hostname,
      severity: d.severity,
      system: d.system,
      event_type: d.event_type,
      dev_name: id?.dev_name ?? d.dev_name ?? "",
      dev_path: d.dev_path ?? id?.dev_path ?? "",
      dev_wwid: d.dev_wwid ?? id?.dev_wwid ?? "",
      owners: d.owners ?? id?.owners ?? [],
      msg: d.msg,
      source: d.source ?? rec?.source ?? instance ?? "storeventd",
      raw: d.raw ?? rec?.raw ?? "",
      extension: d.extension ?? {},
    };
    this.count("events");
    const tUs = d.time_us ?? rec?.time_us;
    if (this.opts.mode === "replay" && tUs !== undefined) this.replayClockMs = Math.max(this.replayClockMs, tUs / 1000);
    this.folder.push(e, this.clockMs(), this.foldSources.has(e.source));
  }

  /** Monotonic ms for folding: performance.now() live, the recorded times in replay. */
  private clockMs(): number {
    return this.opts.mode === "replay" ? this.replayClockMs : performance.now();
  }

  /** Events of this source fold (replay: its decoders name the records' source). */
  foldSource(name: string): void {
    this.foldSources.add(name);
  }

  private deliver(e: StorageEvent): void {
    for (const f of this.listeners) f(e);
    this.router.dispatch(e);
  }

  subscribe(listener: (e: StorageEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Live: every 250 ms. Flushes parsers that do not say when (no nextFlushIn), due folds and drop reports. */
  tick(now = nowUs()): void {
    for (const r of this.running.values()) {
      const p = r.parser;
      if (p?.flush && !p.nextFlushIn) this.guard(r.inst.name, () => p.flush!((d) => this.emitDraft(d, undefined, r.inst.name), false), r);
    }
    this.folder.expire(this.clockMs());
    if (now / 1000 - this.lastDropReport >= DROP_REPORT_MS) {
      this.lastDropReport = now / 1000;
      this.reportDrops();
    }
  }

  private reportDrops(): void {
    for (const s of this.router.all()) {
      if (!s.unreported) continue;
      const n = s.unreported;
      s.unreported = 0;
      this.count("receiver_dropped", n);
      const e: StorageEvent = {
        event_id: crypto.randomUUID(), time: formatTime(nowUs()), hostname: this.hostname, severity: "warn",
        system: "daemon", event_type: "RECEIVER_DROPPED", dev_name: "", dev_path: "", dev_wwid: "", owners: [],
        msg: `receiver ${s.name} dropped ${n} event${n === 1 ? "" : "s"} (queue full)`,
        source: "storeventd", raw: "", extension: { receiver: s.name, dropped: n, reason: "queue_full" },
      };
      for (const f of this.listeners) f(e);
      this.router.dispatch(e, s.name);
    }
  }

  /** End of input (replay) or shutdown: flush parsers and folds. */
  flushAll(): void {
    for (const r of this.running.values()) {
      const p = r.parser;
      if (p?.flush) this.guard(r.inst.name, () => p.flush!((d) => this.emitDraft(d, undefined, r.inst.name), true), r);
    }
    this.folder.expire(Infinity);
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.holdDueMs = Infinity;
  }

  private checkReady(): void {
    if (!this.isReady()) return;
    for (const f of this.readyWaiters.splice(0)) f();
  }

  isReady(): boolean {
    return [...this.running.values()].every((r) => !r.sender || r.ready);
  }

  /** Resolves true once every sender called ready(), false at the timeout. */
  async whenReady(timeoutMs: number): Promise<boolean> {
    if (this.isReady()) return true;
    await within(new Promise<void>((r) => this.readyWaiters.push(r)), timeoutMs);
    return this.isReady();
  }

  /** Stops senders first, flushes, then drains and closes receivers. */
  async stop(timeoutMs: number, beforeDrain?: () => void): Promise<void> {
    const byKind = (k: PluginKind) => [...this.running.values()].filter((r) => r.inst.kind === k).map((r) => r.inst.name);
    this.stopping = true;
    await Promise.all(byKind("sender").map((n) => this.stopInstance(n, Math.min(timeoutMs, 5000))));
    this.flushAll();
    this.reportDrops();
    beforeDrain?.();
    for (const n of byKind("parser")) this.running.delete(n);
    await Promise.all(byKind("receiver").map((n) => this.stopInstance(n, timeoutMs)));
  }

  async reopenReceivers(): Promise<void> {
    for (const r of this.running.values()) {
      try {
        await r.slot?.receiver.reopen?.();
      } catch (e) {
        this.opts.log.child(r.inst.name).warn(`reopen failed: ${(e as Error).message}`);
      }
    }
  }

  instances(): InstanceStatus[] {
    return [...this.running.values()].map((r) => {
      const plugin = r.sender ?? r.parser ?? r.slot?.receiver;
      const extra = (plugin as { status?: () => Record<string, unknown> } | undefined)?.status?.();
      return {
        name: r.inst.name, kind: r.inst.kind, plugin: r.inst.plugin,
        counters: Object.fromEntries(r.counters),
        ...(r.slot ? { queue: r.slot.stats() } : {}),
        ...(extra ? { extra } : {}),
      };
    });
  }

  get folded(): number {
    return this.folder.folded;
  }
}
