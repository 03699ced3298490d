// One resource's promoter: applies decide()'s decisions through a runner, on its own serial action
// chain, so a sleep or a slow `systemctl start` of one resource never delays another. The sleep
// before promoting is a timer that a lost may_promote cancels. Every decision becomes an event
// (DRBD_PROMOTER_STARTING/STARTED/STOPPED/FROZEN/FAILED) and shows in status().
import type { EventDraft, Severity } from "../../../src/plugin-kit/event.ts";
import type { DrbdResource, DrbdUpdate } from "../../../src/plugin-kit/drbd.ts";
import type { ResolvedResource } from "./config.ts";
import { decide, hasQuorum, primaryOn, sleepBeforePromote, type SleepTerms, type SplitBrainPolicy } from "./decide.ts";

export { realClock, type Clock, type Decided, type PromoterState, type ResourceStatus, type Runner } from "./engine-types.ts";
import type { Clock, Decided, PromoterState, ResourceStatus, Runner } from "./engine-types.ts";

export interface EngineDeps {
  node: string;
  runner: Runner;
  clock: Clock;
  emit(d: EventDraft): void;
  /** The model's current view of the resource (undefined when DRBD does not know it). */
  resource(): DrbdResource | undefined;
  retryMs: number;
  evictHoldMs: number;
  log?(level: "info" | "warn", msg: string): void;
}

export class ResourceEngine {
  private state: PromoterState = "idle";
  private chain: Promise<void> = Promise.resolve();
  private sleepTimer: unknown = null;
  private retryTimer: unknown = null;
  private nextStartAt: number | null = null;
  private lastSleep: SleepTerms | null = null;
  private last: Decided | null = null;
  private counts = { decisions: 0, starts: 0, stops: 0, failures: 0 };
  private maintenance = false;
  private disabled = false;
  private evictState: { to: string | null; until: number } | null = null;
  private closed = false;
  /** A may_promote edge seen while a start or stop ran (handled when it is done). */
  private pendingPromote: string | null = null;
  private refused: string | null = null;
  policy: SplitBrainPolicy = "quorum";

  constructor(readonly cfg: ResolvedResource, private d: EngineDeps) {}

  /** Arms the periodic retry: the engine is inert until its controller opens. */
  begin(): void {
    if (this.retryTimer === null) this.armRetry();
  }

  /** A model update for this resource. */
  onUpdate(u: DrbdUpdate): void {
    if (this.closed) return;
    const res = this.d.resource();
    if (!res) return;
    if (u.kind === "resource" || u.kind === "connection") this.checkEvict(res);
    if (this.maintenance || this.refused) return;
    if (u.kind === "resource" && u.eventType === "Exists" && u.new.role === "Primary") {
      return void this.enqueue("check", "Primary at start");
    }
    const dec = decide(u, res, this.cfg, this.d.node, this.policy);
    switch (dec.action) {
      case "none": return;
      case "promote": return this.schedulePromote(res, dec.reason);
      case "cancel": return this.cancelSleep(dec.reason);
      default: return void this.enqueue(dec.action, dec.reason);
    }
  }

  /** The resource as it is now, when the promoter starts (or a reload keeps the model): act on may_promote. */
  initial(): void {
    const res = this.d.resource();
    if (!res || this.maintenance) return;
    if (res.mayPromote) this.schedulePromote(res, "may_promote at start");
    else if (res.role === "Primary") void this.enqueue("check", "Primary at start");
  }

  /** The resource cannot be handled safely (no split-brain avoidance): no action, ever. */
  refuse(reason: string): void {
    this.refused = reason;
    this.cancelSleep("refused");
    this.event("error", "DRBD_PROMOTER_FAILED", `promoter: ${this.cfg.name}: ${reason}`, { reason, action: "check" });
  }

  /** Why this node must not start the services now; `adopt`: it is Primary already (its own
   * may_promote is false then), only the services may be missing. */
  private blocked(res: DrbdResource, adopt = false): string | undefined {
    if (this.refused) return this.refused;
    if (this.disabled) return "disabled";
    if (this.maintenance) return "maintenance";
    const ev = this.evictState;
    if (ev && this.d.clock.now() < ev.until && ev.to !== this.d.node) return ev.to ? `evicted to ${ev.to}` : "evicted";
    if (adopt) return res.role === "Primary" ? undefined : "not Primary";
    if (!res.mayPromote) return "may_promote is false";
    return undefined;
  }

  private schedulePromote(res: DrbdResource, reason: string): void {
    const why = this.blocked(res);
    if (why) {
      this.d.log?.("info", `${this.cfg.name}: may promote, but ${why}`);
      return;
    }
    // Active but Secondary: the stack was stopped outside the promoter (drbd-reactorctl evict on
    // this node, systemctl stop); this node may be the one to take over now.
    if (this.state === "active" && res.role !== "Primary") this.state = "idle";
    if (this.sleepTimer !== null || this.state === "active") return;
    if (this.state === "starting" || this.state === "stopping") {
      // An action is in flight (say a start that DRBD will refuse): act on this edge after it.
      this.pendingPromote = reason;
      return;
    }
    const terms = sleepBeforePromote(res, this.cfg, this.d.node, this.policy);
    const favoured = this.evictState && this.evictState.to === this.d.node && this.d.clock.now() < this.evictState.until;
    const ms = favoured ? 0 : terms.total_ms;
    this.lastSleep = terms;
    this.nextStartAt = this.d.clock.now() + ms;
    this.state = "sleeping";
    this.event("info", "DRBD_PROMOTER_STARTING", `promoter: ${this.cfg.name} may promote, starting in ${ms} ms (${reason})`, {
      reason, delay_ms: ms, sleep: terms, favoured: Boolean(favoured),
    });
    this.sleepTimer = this.d.clock.setTimeout(() => {
      this.sleepTimer = null;
      this.nextStartAt = null;
      void this.enqueue("start", reason);
    }, ms);
  }

  private cancelSleep(reason: string): void {
    this.pendingPromote = null;
    if (this.sleepTimer === null) return;
    this.d.clock.clearTimeout(this.sleepTimer);
    this.sleepTimer = null;
    this.nextStartAt = null;
    if (this.state === "sleeping") this.state = "idle";
    this.record("cancel", reason, true);
  }

  private armRetry(): void {
    if (this.closed) return;
    this.retryTimer = this.d.clock.setTimeout(() => {
      this.retryTimer = null;
      this.retry();
      this.armRetry();
    }, this.d.retryMs);
  }

  /** Periodic: a target that is not active while may_promote holds is started again. */
  retry(): void {
    const res = this.d.resource();
    if (!res || this.closed) return;
    this.checkEvict(res);
    if (this.blocked(res) || this.sleepTimer !== null || this.state === "starting" || this.state === "stopping") return;
    void this.enqueue("retry", "may_promote holds, target not active");
  }

  /** Runs an action after the ones queued before it (this resource only). */
  enqueue(action: string, reason: string): Promise<void> {
    const p = this.chain.then(() => this.run(action, reason));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async run(action: string, reason: string): Promise<void> {
    await this.act(action, reason);
    const pending = this.pendingPromote;
    this.pendingPromote = null;
    const res = this.d.resource();
    if (pending && res?.mayPromote && !this.closed && this.state !== "active") this.schedulePromote(res, pending);
  }

  private async act(action: string, reason: string): Promise<void> {
    if (this.closed && action !== "stop-on-exit") return;
    const { runner } = this.d;
    const cfg = this.cfg;
    try {
      switch (action) {
        case "start":
        case "retry":
        case "adopt": {
          const res = this.d.resource();
          if (!res || this.blocked(res, action === "adopt")) return void (this.state === "sleeping" && (this.state = "idle"));
          if (action === "retry" && await runner.isActive(cfg)) return void (this.state = "active");
          this.state = "starting";
          this.counts.starts++;
          if (action === "retry") {
            this.event("info", "DRBD_PROMOTER_STARTING", `promoter: ${cfg.name} target not active while may promote, starting (retry)`, { reason });
          }
          try {
            await runner.start(cfg);
          } catch (e) {
            // drbd-reactor: a failed start is stopped again, so peers see the resource promotable.
            this.state = "failed";
            this.fail("start", reason, e);
            await runner.stop(cfg).catch((e2) => this.fail("stop", "after failed start", e2));
            if (this.state === "failed") this.state = "idle";
            return;
          }
          return this.done("active", "start", reason, "DRBD_PROMOTER_STARTED", "started");
        }
        case "stop":
        case "stop-on-exit": {
          const res = this.d.resource();
          if (action === "stop" && res && res.role !== "Primary" && this.state !== "active" && this.state !== "frozen" &&
            !(await runner.isActive(cfg))) {
            return; // nothing runs here
          }
          this.cancelSleep(reason);
          this.state = "stopping";
          this.counts.stops++;
          await runner.stop(cfg);
          return this.done("idle", "stop", reason, "DRBD_PROMOTER_STOPPED", "stopped");
        }
        case "freeze": {
          const res = this.d.resource();
          if (res && res.role !== "Primary" && this.state !== "active") return;
          this.cancelSleep(reason);
          await runner.freeze(cfg);
          return this.done("frozen", "freeze", reason, "DRBD_PROMOTER_FROZEN", "frozen", "warn");
        }
        case "thaw": {
          await runner.thaw(cfg);
          return this.done("active", "thaw", reason, "DRBD_PROMOTER_STARTED", "thawed", "info", { thawed: true });
        }
        case "check": {
          // Primary here at start (a daemon restart): adopt running services, or start the target
          // that is missing on top of the Primary (drbd-reactor's initial target start).
          if (await runner.isActive(cfg)) return void (this.state = "active");
          this.state = "idle";
          const res = this.d.resource();
          if (res?.role === "Primary" && !this.blocked(res, true)) return this.act("adopt", "Primary, services not running");
          return;
        }
      }
    } catch (e) {
      this.state = "failed";
      this.fail(action, reason, e);
    }
  }

  /** A decision carried out: new state, status record, event. */
  private done(state: PromoterState, action: string, reason: string, type: string, verb: string, severity: Severity = "info",
    ext: Record<string, unknown> = {}): void {
    this.state = state;
    this.record(action, reason, true);
    this.event(severity, type, `promoter: ${this.cfg.name} ${verb} on ${this.d.node} (${reason})`, { reason, ...ext });
  }

  private fail(action: string, reason: string, e: unknown): void {
    const error = e instanceof Error ? e.message : String(e);
    this.counts.failures++;
    this.record(action, reason, false, error);
    this.event("error", "DRBD_PROMOTER_FAILED", `promoter: ${this.cfg.name} ${action} failed on ${this.d.node}: ${error}`, {
      action, reason, error,
    });
  }

  private record(action: string, reason: string, ok: boolean, error?: string): void {
    this.counts.decisions++;
    this.last = { at: this.d.clock.now(), action, reason, ok, ...(error ? { error } : {}) };
  }

  private event(severity: Severity, type: string, msg: string, ext: Record<string, unknown>): void {
    this.d.emit({
      severity, system: "drbd", event_type: type, msg,
      extension: { resource: this.cfg.name, node: this.d.node, state: this.state, ...ext },
    });
  }

  private checkEvict(res: DrbdResource): void {
    const ev = this.evictState;
    if (!ev) return;
    const on = primaryOn(res);
    const done = this.d.clock.now() >= ev.until || (ev.to !== null && ev.to !== this.d.node && on === ev.to) ||
      (ev.to === null && on !== undefined && on !== "local") || (ev.to === this.d.node && on === "local");
    if (done) this.evictState = null;
  }

  // ---- control (status, evict, disable, enable, maintenance) ----------------------------------

  /** Stops here and keeps this node from promoting for the hold time, or until `to` (a peer) is Primary.
   * With `to` = this node: promote without the sleep for the hold time. */
  async evict(to?: string): Promise<{ ok: boolean; message: string }> {
    const until = this.d.clock.now() + this.d.evictHoldMs;
    this.evictState = { to: to ?? null, until };
    const res = this.d.resource();
    if (to === this.d.node) {
      if (res?.mayPromote) {
        this.cancelSleep("evict to this node");
        this.schedulePromote(res, `evict --to ${to}`);
      }
      return { ok: true, message: `${this.cfg.name}: ${to} favoured for ${this.d.evictHoldMs} ms` };
    }
    const runsHere = res?.role === "Primary" || this.state === "active" || this.state === "frozen" || this.state === "sleeping";
    this.cancelSleep("evicted");
    if (runsHere) await this.enqueue("stop", to ? `evict --to ${to}` : "evict");
    return {
      ok: true,
      message: `${this.cfg.name}: ${runsHere ? "stopped here; " : ""}not promoting on ${this.d.node} for ${this.d.evictHoldMs} ms` +
        (to ? ` or until ${to} is Primary` : ""),
    };
  }

  async disable(now: boolean): Promise<{ ok: boolean; message: string }> {
    this.disabled = true;
    this.cancelSleep("disabled");
    if (now) await this.enqueue("stop", "disabled");
    return { ok: true, message: `${this.cfg.name}: disabled${now ? ", services stopped" : ""}` };
  }

  enable(): { ok: boolean; message: string } {
    this.disabled = false;
    const res = this.d.resource();
    if (res?.mayPromote && !this.maintenance) this.schedulePromote(res, "enabled");
    return { ok: true, message: `${this.cfg.name}: enabled` };
  }

  setMaintenance(on: boolean): { ok: boolean; message: string } {
    this.maintenance = on;
    if (on) this.cancelSleep("maintenance");
    else void this.enqueue("check", "maintenance off").then(() => this.reassess());
    return { ok: true, message: `${this.cfg.name}: maintenance ${on ? "on (no actions; services keep running)" : "off"}` };
  }

  /** After maintenance: act on what changed meanwhile (no edge will come for it), then as at start. */
  private reassess(): void {
    const res = this.d.resource();
    if (!res || this.maintenance || this.closed || this.refused) return;
    let action: string | undefined;
    if (this.state === "active" && res.role !== "Primary") action = "stop";
    else if (res.role === "Primary" && this.policy === "quorum" && !hasQuorum(res)) action = this.cfg["on-quorum-loss"] === "freeze" ? "freeze" : "stop";
    if (!action) return this.initial();
    const reason = res.role === "Primary" ? "quorum lost (maintenance off)" : "not Primary (maintenance off)";
    void this.enqueue(action, reason).then(() => action === "stop" && this.initial());
  }

  status(): ResourceStatus {
    const res = this.d.resource();
    return {
      resource: this.cfg.name, node: this.d.node, state: this.state, may_promote: res?.mayPromote ?? false,
      role: res?.role ?? "Unknown", quorum: res ? hasQuorum(res) : false, primary_on: res ? primaryOn(res) ?? null : null,
      maintenance: this.maintenance, disabled: this.disabled, refused: this.refused, evict: this.evictState, policy: this.policy,
      next_start_at: this.nextStartAt, sleep: this.lastSleep, last: this.last, ...this.counts,
    };
  }

  /** Waits for queued actions (tests, shutdown). */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Stops timers; with stopServices, stops the services (stop-services-on-exit). */
  async close(stopServices: boolean): Promise<void> {
    this.closed = true;
    if (this.sleepTimer !== null) this.d.clock.clearTimeout(this.sleepTimer);
    if (this.retryTimer !== null) this.d.clock.clearTimeout(this.retryTimer);
    this.sleepTimer = this.retryTimer = null;
    await this.chain;
    if (stopServices) await this.act("stop-on-exit", "stop-services-on-exit");
  }
}
