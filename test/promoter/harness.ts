// Test harness: a fake clock, a runner that acts on the simulated cluster the way
// drbd-services@RES.target would (drbd-promote@ promotes via `drbdsetup primary`, the services
// open the device, stop demotes with secondary then --force), and N promoter nodes, each with its
// own DRBD model fed from its own simulated `drbdsetup events2` lines.
import * as v from "valibot";
import { DrbdModel } from "../../src/drbd/model.ts";
import { tokenizeEvents2Line } from "../../src/drbd/events2.ts";
import type { EventDraft, Logger } from "../../src/plugin-api.ts";
import { PromoterSchema, type ResolvedResource } from "../../plugins/receiver/promoter/config.ts";
import { PromoterController } from "../../plugins/receiver/promoter/controller.ts";
import type { Clock, Runner } from "../../plugins/receiver/promoter/engine.ts";
import type { SimCluster } from "./sim.ts";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Timers fire in due order when advance() moves time; promises settle between firings. */
export class FakeClock implements Clock {
  t = Date.now();
  private timers = new Set<Timer>();
  private seq = 0;

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const h = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.add(h);
    return h;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as Timer);
  }

  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const next = [...this.timers].filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers.delete(next);
      this.t = next.at;
      next.fn();
      await settle();
    }
    this.t = end;
  }
}

/** Lets pending promise chains (runner actions) run to completion. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await Bun.sleep(0);
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

export class SimRunner implements Runner {
  running = false;
  frozen = false;
  calls: string[] = [];
  /** Extra latency of `systemctl start` (a slow service), in fake-clock time. */
  startDelayMs = 0;
  /** How long a refused start takes to fail, in fake-clock time. */
  failLatencyMs = 0;

  constructor(private sim: SimCluster, private node: string, private clock: FakeClock) {}

  async start(_r: ResolvedResource): Promise<void> {
    this.calls.push("start");
    if (this.running) return;
    const p = this.sim.primary(this.node);
    if (p.code !== 0) {
      // systemctl returns some time after drbd-promote@'s ExecCondition failed
      if (this.failLatencyMs) await new Promise<void>((r) => this.clock.setTimeout(r, this.failLatencyMs));
      throw new Error(`drbd-promote@ condition failed: ${p.stderr.trim()}`);
    }
    if (this.startDelayMs) await new Promise<void>((r) => this.clock.setTimeout(r, this.startDelayMs));
    this.sim.open.set(this.node, true);
    this.running = true;
    this.frozen = false;
  }
  async stop(r: ResolvedResource): Promise<void> {
    this.calls.push("stop");
    this.running = false;
    this.frozen = false;
    this.sim.open.set(this.node, false);
    const s = this.sim.secondary(this.node);
    if (s.code !== 0 && r["secondary-force"]) this.sim.secondary(this.node, true);
  }
  async freeze(): Promise<void> {
    this.calls.push("freeze");
    this.frozen = true;
  }
  async thaw(): Promise<void> {
    this.calls.push("thaw");
    this.frozen = false;
  }
  /** What `systemctl show` would say about the target, the promote unit and the start units. */
  async units(r: ResolvedResource): Promise<{ unit: string; state: string }[]> {
    const on = this.running;
    return [
      { unit: `drbd-services@${r.name}.target`, state: on ? "active (active)" : "inactive (dead)" },
      { unit: `drbd-promote@${r.name}.service`, state: on ? "active (exited)" : "inactive (dead)" },
      ...r.start.map((u) => ({ unit: u, state: on ? `active (running${this.frozen ? ", frozen" : ""})` : "inactive (dead)" })),
    ];
  }
  /** The target's ActiveState: a DRBD demotion under it (forced Secondary) does not stop it. */
  async isActive(): Promise<boolean> {
    return this.running && this.sim.up.get(this.node)!;
  }
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, once() {} };

export class SimNode {
  model = new DrbdModel();
  events: EventDraft[] = [];
  runner: SimRunner;
  controller: PromoterController | null = null;
  private unsub: (() => void) | null = null;

  constructor(readonly name: string, private sim: SimCluster, private clock: FakeClock) {
    this.runner = new SimRunner(sim, name, clock);
  }

  private feed(line: string): void {
    const rec = tokenizeEvents2Line(line, `drbd@${this.name}`);
    if (rec) this.model.apply(rec, () => undefined);
  }

  /** Starts the daemon: the promoter subscribes, then drbdsetup's initial dump arrives. */
  async start(options: Record<string, unknown>): Promise<void> {
    this.model = new DrbdModel();
    const cfg = v.parse(PromoterSchema, { "node-name": this.name, ...options });
    this.controller = new PromoterController(cfg, {
      model: this.model, emit: (d) => void this.events.push(d), log: quiet, clock: this.clock,
      runnerFor: () => this.runner, dryRun: true,
    });
    await this.controller.open();
    for (const l of this.sim.dump(this.name)) this.feed(l);
    this.unsub = this.sim.subscribe(this.name, (l) => this.feed(l));
  }

  async stop(): Promise<void> {
    this.unsub?.();
    await this.controller?.close();
    this.controller = null;
  }

  types(): string[] {
    return this.events.map((e) => `${e.event_type}:${(e.extension as { reason?: string }).reason ?? ""}`);
  }
}

export class SimHarness {
  clock = new FakeClock();
  nodes: SimNode[];
  constructor(readonly sim: SimCluster) {
    this.nodes = sim.nodes.map((n) => new SimNode(n, sim, this.clock));
  }
  node(name: string): SimNode {
    return this.nodes.find((n) => n.name === name)!;
  }
  async startAll(options: Record<string, unknown>): Promise<void> {
    for (const n of this.nodes) await n.start(options);
    await settle();
  }
  async stopAll(): Promise<void> {
    for (const n of this.nodes) await n.stop();
  }
  /** Who runs the services (running runner on a Primary). */
  active(): string[] {
    return this.nodes.filter((n) => n.runner.running && this.sim.role.get(n.name) === "Primary").map((n) => n.name);
  }
  /** Advances in steps, checking for double Primary at each; returns ms until `pred` held (or -1). */
  async until(pred: () => boolean, maxMs: number, stepMs = 100): Promise<number> {
    await this.clock.advance(0); // timers due now (a 0 ms sleep) fire first
    for (let t = 0; t <= maxMs; t += stepMs) {
      if (pred()) return t;
      await this.clock.advance(stepMs);
    }
    return pred() ? maxMs : -1;
  }
}
