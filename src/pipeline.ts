// The pipeline: senders -> parsers (and the DRBD model) -> fold -> router -> receivers.
// `apply(config)` diffs instance sets (same name + same config = kept running), so it serves the
// first start, reload, and replay alike.
import { formatTime, nowUs, type EventDraft, type StorageEvent } from "./event.ts";
import type { AnyPluginDef, BaseContext, DeviceDirectory, Parser, PluginKind, Receiver, Sender, SenderContext } from "./plugin-api.ts";
import type { RawRecord } from "./records.ts";
import type { Config, InstanceConfig } from "./config/load.ts";
import type { Registry } from "./registry.ts";
import type { RootLog } from "./util/log.ts";
import type { ServiceMap } from "./util/services.ts";
import type { NativeAddon } from "./native.ts";
import { DrbdModel } from "./drbd/model.ts";
import { DRBD_MODEL_SERVICE } from "./drbd/service.ts";
import { applyFastLine } from "./drbd/fast.ts";
import type { Events2FastApply } from "./drbd/events2.ts";
import { within } from "./util/timeout.ts";
import { Folder } from "./router/fold.ts";
import { RecordPath } from "./record-path.ts";
import { ConfigError } from "./config/issues.ts";
import { compileFilter } from "./router/filter.ts";
import { ReceiverSlot, Router } from "./router/router.ts";
import { DropReporter } from "./router/drops.ts";
import { mark, tracing } from "./util/stage-trace.ts";
import type { ApplyResult, InstanceStatus } from "./daemon-api.ts";
import { withImplicitParsers } from "./config/implicit.ts";

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

export type { ApplyResult } from "./daemon-api.ts";

/** Senders close their readers at stop: this is generous for that. */
const STOP_SENDER_MS = 1000;
/** A receiver's close() after its drain time: kills its children, drops its connections. */
const STOP_CLOSE_MS = 1000;

export class Pipeline {
  readonly router = new Router();
  readonly drbd = new DrbdModel();
  readonly counters = new Map<string, number>();
  readonly folder: Folder;
  private running = new Map<string, Running>();
  private listeners = new Set<(e: StorageEvent) => void>();
  private hostname = "";
  private stateDir = "";
  private drops = new DropReporter(this.router, this.drbd, {
    count: (name, n) => this.count(name, n),
    send: (e, receiver) => {
      for (const f of this.listeners) f(e);
      this.router.dispatch(e, receiver);
    },
    hostname: () => this.hostname,
  });
  private holdMaxMs = 250;
  private records: RecordPath;
  private stopping = false;
  private readyWaiters: (() => void)[] = [];

  constructor(private opts: PipelineOptions) {
    this.folder = new Folder(5000, (e) => this.deliver(e), opts.mode === "replay");
    opts.services.provide(DRBD_MODEL_SERVICE, this.drbd);
    this.records = new RecordPath({
      drbd: this.drbd, log: opts.log, mode: opts.mode, targets: () => this.running.values(),
      emitDraft: (d, rec, instance) => this.emitDraft(d, rec, instance), count: (name, n) => this.count(name, n),
    });
  }

  /** The hold timer and the held kmsg seqs. */
  get holds(): RecordPath["holds"] {
    return this.records.holds;
  }

  count(name: string, n = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  /** Starts, keeps and stops instances so that the running set matches `cfg`: builds the changed
   * and new instances inert (a creation error, i.e. a config error a schema cannot see, aborts the
   * apply before anything is stopped), stops the changed and removed ones, then starts the new ones.
   * A start that fails is reported in `failed`, and the instance it replaced is started again from
   * its old config (`restored`). Unchanged instances are never touched. */
  async apply(cfg: Config): Promise<ApplyResult> {
    this.hostname = cfg.main.hostname;
    this.stateDir = cfg.main.state_dir;
    this.folder.setWindow(cfg.main.dedup_window);
    this.holdMaxMs = cfg.main.hold_max;
    const wanted = withImplicitParsers(cfg, this.opts.registry);
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
      await Promise.all(fresh.map((r) => this.closeCreated(r)));
      throw e;
    }
    const stopped = [...this.running.keys()].filter((n) => !keep.has(n));
    const previous = new Map(stopped.map((n) => [n, this.running.get(n)!.inst]));
    await Promise.all(stopped.map((n) => this.stopInstance(n, 5000)));
    const started: string[] = [];
    const failed: { instance: string; error: string }[] = [];
    const restored: string[] = [];
    for (const r of fresh) {
      const name = r.inst.name;
      try {
        await this.startInstance(r);
        started.push(name);
        continue;
      } catch (e) {
        const where = r.inst.line ? `${r.inst.file}:${r.inst.line}` : r.inst.file;
        failed.push({ instance: name, error: `[${name}] cannot start: ${(e as Error).message ?? e} (${where})` });
      }
      // The old instance is built before the failed one is closed: a promoter sees its successor
      // and leaves running services alone.
      const prev = previous.get(name);
      const old = prev ? await this.create(prev).catch(() => undefined) : undefined;
      await this.closeCreated(r);
      if (!old) continue;
      try {
        await this.startInstance(old);
        restored.push(name);
      } catch (e) {
        await this.closeCreated(old);
        failed.push({ instance: name, error: `[${name}] the previous config did not start again either: ${(e as Error).message ?? e}` });
      }
    }
    return { started, stopped, kept: [...keep], failed, restored };
  }

  private async create(inst: InstanceConfig): Promise<Running> {
    const r: Running = { inst, counters: new Map(), abort: new AbortController(), ready: false };
    const log = this.opts.log.child(inst.name);
    const base: BaseContext = {
      instance: inst.name, plugin: inst.plugin, hostname: this.hostname, stateDir: this.stateDir, log,
      count: (name, n = 1) => void r.counters.set(name, (r.counters.get(name) ?? 0) + n),
      native: this.opts.native, devices: this.opts.devices, services: this.opts.services, signal: r.abort.signal, queue: inst.queue,
      emitEvent: (d) => this.emitDraft(d, undefined, inst.name),
    };
    const def = inst.def as AnyPluginDef;
    try {
      if (inst.kind === "sender") {
        const ctx: SenderContext = {
          ...base,
          emit: (rec) => this.handleRecord(rec),
          events2Fast: () => this.events2Fast(),
          inject: (e) => this.inject(e),
          delivered: (ms) => this.delivered(ms),
          oldestHeld: () => (this.stopping ? undefined : this.holds.oldestHeld(inst.name)), // stopping: flushed next
          ready: () => {
            r.ready = true;
            this.checkReady();
          },
        };
        r.sender = (await def.create(inst.options, ctx as never)) as Sender;
      } else if (inst.kind === "parser") {
        r.parser = (await def.create(inst.options, { ...base, holdMaxMs: this.holdMaxMs, clock: this.records.dispatch.clock } as never)) as Parser;
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
    this.records.invalidate();
    if (r.sender && (r.inst.def as AnyPluginDef).foldRepeats) this.folder.sources.add(r.inst.name);
    if (r.slot) this.router.add(r.slot);
    if (r.sender && this.opts.mode === "daemon") {
      const log = this.opts.log.child(r.inst.name);
      r.senderDone = r.sender.run().catch((e) => {
        this.count("sender_failures");
        log.error(`stopped: ${(e as Error).message ?? e}`);
      });
    }
  }

  /** Closes an instance that never ran (or whose start failed); never throws. */
  private async closeCreated(r: Running): Promise<void> {
    r.abort.abort();
    try {
      await r.sender?.close?.();
      await r.slot?.receiver.close?.();
    } catch (e) {
      this.opts.log.child(r.inst.name).warn(`close after a failed start: ${(e as Error).message ?? e}`);
    }
  }

  private async stopInstance(name: string, timeoutMs: number, closeMs = timeoutMs, until = 0): Promise<void> {
    const r = this.running.get(name);
    if (!r) return;
    this.running.delete(name);
    this.records.invalidate();
    this.folder.sources.delete(name);
    r.abort.abort();
    if (r.sender) {
      await r.sender.close?.();
      if (!(await within(r.senderDone, timeoutMs))) this.opts.log.child(name).warn(`did not stop within ${timeoutMs} ms`);
    }
    if (r.parser) r.parser.flush?.((d) => this.emitDraft(d, undefined, name), true);
    if (r.slot) {
      this.router.remove(name);
      await r.slot.close(timeoutMs, closeMs, until);
    }
  }

  private fastLane = {
    apply: ((nums, base, strs) => applyFastLine(this.drbd, nums, base, strs)) as Events2FastApply,
    taken: (n: number) => this.count("records", n),
  };

  /** The DRBD model's fast lane for statistics lines, unless a parser wants every events2 record. */
  events2Fast(): typeof this.fastLane | null {
    for (const r of this.running.values()) if (r.parser?.accepts.includes("events2")) return null;
    return this.fastLane;
  }

  /** One raw record from a sender (or replay) into the DRBD model and every parser that takes its kind. */
  handleRecord(rec: RawRecord): void {
    this.records.handle(rec);
  }

  /** Completes a draft (id, time, host, identity, source, raw) and publishes it; a repeat the fold
   * counts is never completed (see Folder.offer). */
  emitDraft(d: EventDraft, rec?: RawRecord, instance?: string): void {
    this.count("events");
    const id = d.dev_name ? this.opts.devices.identify(d.dev_name) : undefined;
    const source = d.source ?? rec?.source ?? instance ?? "storeventd";
    const raw = d.raw ?? rec?.raw ?? "";
    const timeUs = d.time_us ?? rec?.time_us;
    const atUs = timeUs ?? nowUs(); // now, not when a repeat's event is built
    this.folder.offer(source, d.system, d.event_type, raw, timeUs, (): StorageEvent => ({
      event_id: crypto.randomUUID(),
      time: formatTime(atUs),
      hostname: this.hostname,
      severity: d.severity,
      system: d.system,
      event_type: d.event_type,
      dev_name: id?.dev_name ?? d.dev_name ?? "",
      dev_path: d.dev_path ?? id?.dev_path ?? "",
      dev_wwid: d.dev_wwid ?? id?.dev_wwid ?? "",
      owners: d.owners ?? id?.owners ?? [],
      msg: d.msg,
      source,
      raw,
      extension: d.extension ?? {},
    }));
  }

  /** A complete event from elsewhere: routed like any event, never re-stamped or folded again. */
  inject(e: StorageEvent): void {
    this.count("remote_events");
    this.deliver(e);
  }

  /** Resolves when every receiver slot has handled what it was offered until now (or at the
   * timeout) and each receiver that can (the store) made it durable. */
  async delivered(timeoutMs: number): Promise<void> {
    const targets = this.router.all().map((s) => [s, s.offered] as const);
    const end = performance.now() + timeoutMs;
    while (targets.some(([s, n]) => s.handled < n && this.router.all().includes(s)) && performance.now() < end) {
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(targets.map(async ([s]) => {
      try {
        await s.receiver.sync?.();
      } catch (e) {
        this.opts.log.child(s.name).once("sync", `sync failed: ${(e as Error).message ?? e}`);
      }
    }));
  }

  private deliver(e: StorageEvent): void {
    if (tracing) mark("deliver", e.raw);
    for (const f of this.listeners) f(e);
    this.router.dispatch(e);
  }

  subscribe(listener: (e: StorageEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Live: every 250 ms. Flushes parsers that do not say when (no nextFlushIn), due folds and drop reports. */
  tick(now = nowUs()): void {
    for (const r of this.records.entries()) if (r.parser!.flush && !r.parser!.nextFlushIn) this.records.flush(r);
    this.folder.expire(this.folder.clockMs());
    this.drops.tick(now / 1000);
  }

  /** End of input (replay) or shutdown: flush parsers and folds. */
  flushAll(): void {
    for (const r of this.records.entries()) this.records.flush(r, true);
    this.folder.expire(Infinity);
    this.holds.cancel();
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

  /** Stops senders first, flushes, then lets receivers drain until `timeoutMs` after the call
   * and closes them (each close() gets what is left of timeoutMs, at least STOP_CLOSE_MS). Never
   * takes longer than timeoutMs + STOP_CLOSE_MS (+ the senders' STOP_SENDER_MS when timeoutMs is
   * shorter than that). */
  async stop(timeoutMs: number, beforeDrain?: () => void): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const byKind = (k: PluginKind) => [...this.running.values()].filter((r) => r.inst.kind === k).map((r) => r.inst.name);
    this.stopping = true;
    await Promise.all(byKind("sender").map((n) => this.stopInstance(n, Math.min(timeoutMs, STOP_SENDER_MS))));
    this.flushAll();
    this.drops.report();
    beforeDrain?.();
    for (const n of byKind("parser")) this.running.delete(n);
    this.records.invalidate();
    const drainMs = Math.max(0, deadline - performance.now());
    await Promise.all(byKind("receiver").map((n) => this.stopInstance(n, drainMs, STOP_CLOSE_MS, deadline)));
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
}
