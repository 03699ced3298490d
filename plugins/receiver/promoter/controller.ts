// One [[promoter]] instance: writes its systemd units, runs `drbdadm adjust`, follows the DRBD
// model and drives one ResourceEngine per resource. All instances register with one PromoterHub,
// provided as service "promoter" for the control API (status, evict, disable, enable, maintenance).
import { hostname } from "node:os";
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { EventDraft } from "../../../src/plugin-kit/event.ts";
import type { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import type { SubscriberOwner } from "../../../src/plugin-kit/drbd.ts";
import type { Logger, Services } from "../../../src/plugin-api.ts";
import { PROMOTER_SERVICE, type PromoterControl } from "../../../src/plugin-kit/services.ts";
import { resolveResource, type PromoterConfig, type ResolvedResource } from "./config.ts";
import { realClock, ResourceEngine, type Clock, type ResourceStatus, type Runner } from "./engine.ts";
import { checkDrbdOptions, type ShownResource } from "./decide.ts";
import { exec, ShellRunner, SystemdRunner } from "./runner.ts";
import { servicesTarget } from "../../../src/plugin-kit/systemd.ts";
import { BEFORE_DROPIN, generateUnits, writeUnits } from "./units.ts";

export interface ActionResult {
  ok: boolean;
  message: string;
}

export interface ResourceReport extends ResourceStatus {
  runner: "systemd" | "shell";
  target: string | null;
  units: { unit: string; state: string }[];
}

export { PROMOTER_SERVICE, type PromoterControl } from "../../../src/plugin-kit/services.ts";

export class UnknownResource extends Error {}

/** Every running [[promoter]] instance's resources behind one control surface. */
export class PromoterHub implements PromoterControl {
  private controllers = new Set<PromoterController>();
  /** Every built instance, started or not: a reload builds successors before the old ones close. */
  private built = new Set<PromoterController>();

  announce(c: PromoterController): void {
    this.built.add(c);
  }
  withdraw(c: PromoterController): void {
    this.built.delete(c);
  }
  /** An instance built but not started yet (a reload's successor, or the old one being restored)
   * takes `r` over unchanged: `c` must leave its services and drop-in alone when it closes. Running
   * instances never count (at shutdown every instance stops its own). */
  handsOver(c: PromoterController, r: ResolvedResource): boolean {
    for (const o of this.built) if (o !== c && !this.controllers.has(o) && o.takesOver(r)) return true;
    return false;
  }

  add(c: PromoterController): void {
    this.controllers.add(c);
  }
  remove(c: PromoterController): void {
    this.controllers.delete(c);
  }

  private find(res: string): PromoterController {
    for (const c of this.controllers) if (c.has(res)) return c;
    throw new UnknownResource(`no [[promoter]] manages resource "${res}"`);
  }

  async status(res?: string): Promise<ResourceReport[]> {
    if (res !== undefined) return this.find(res).status(res);
    const all = await Promise.all([...this.controllers].map((c) => c.status()));
    return all.flat().sort((a, b) => (a.resource < b.resource ? -1 : 1));
  }
  evict(res: string, to?: string): Promise<ActionResult> {
    return this.find(res).engine(res).evict(to);
  }
  disable(res: string, now: boolean): Promise<ActionResult> {
    return this.find(res).engine(res).disable(now);
  }
  async enable(res: string): Promise<ActionResult> {
    return this.find(res).engine(res).enable();
  }
  async maintenance(res: string, on: boolean): Promise<ActionResult> {
    return this.find(res).engine(res).setMaintenance(on);
  }
}

export function hubOf(services: Services): PromoterHub {
  let hub = services.get(PROMOTER_SERVICE) as PromoterHub | undefined;
  if (!hub) {
    hub = new PromoterHub();
    services.provide(PROMOTER_SERVICE, hub);
  }
  return hub;
}

export interface ControllerDeps {
  model: DrbdModel | undefined;
  emit(d: EventDraft): void;
  log: Logger;
  clock?: Clock;
  /** Runner per resource (tests); default systemd or shell by the resource's runner. */
  runnerFor?(res: ResolvedResource): Runner;
  exec?: typeof exec;
  /** Skip unit generation, daemon-reload and adjust (tests that only drive decisions). */
  dryRun?: boolean;
  /** True when another instance takes the resource over unchanged (reload): close() then neither
   * stops its services nor removes its drop-in. */
  handsOver?(res: ResolvedResource): boolean;
  /** Whose update queue this is (the plugin context: queue settings, drop and error counters). */
  owner?: SubscriberOwner;
}

export class PromoterController {
  readonly node: string;
  private resources: ResolvedResource[];
  private engines = new Map<string, ResourceEngine>();
  private runners = new Map<string, Runner>();
  private systemd: SystemdRunner;
  private unsubscribe: (() => void) | null = null;
  private run: typeof exec;

  constructor(private cfg: PromoterConfig, private d: ControllerDeps) {
    this.node = cfg["node-name"] || hostname();
    this.run = d.exec ?? exec;
    this.systemd = new SystemdRunner({ systemctl: cfg.systemctl, run: this.run });
    this.resources = Object.entries(cfg.resources).map(([name, r]) => resolveResource(name, r));
    const clock = d.clock ?? realClock;
    for (const r of this.resources) {
      if (!r.start.length) d.log.warn(`promoter: resource ${r.name} has an empty start list: it is only promoted`);
      if (r.runner === "systemd" && r.start.at(-1)?.endsWith(".mount")) {
        d.log.warn(`promoter: ${r.name}: a mount unit should not be the last start entry; consider the OCF Filesystem agent`);
      }
      if (r.runner === "systemd" && cfg.resources[r.name]!.stop.length) {
        d.log.warn(`promoter: ${r.name}: stop is ignored by the systemd runner (it stops ${servicesTarget(r.name)})`);
      }
      if (r["on-stop-failure"]) d.log.warn("promoter: on-stop-failure is deprecated and ignored; use on-drbd-demote-failure");
      const runner = d.runnerFor?.(r) ?? (r.runner === "shell" ? new ShellRunner(this.run) : this.systemd);
      this.runners.set(r.name, runner);
      this.engines.set(r.name, new ResourceEngine(r, {
        node: this.node, runner, clock, emit: d.emit, resource: () => d.model?.resource(r.name),
        retryMs: cfg["retry-interval"], evictHoldMs: cfg["evict-hold"],
        log: (level, msg) => d.log[level](msg),
      }));
    }
  }

  has(res: string): boolean {
    return this.engines.has(res);
  }

  /** Same resource, same runner, same start list: its running services can stay as they are. */
  takesOver(r: ResolvedResource): boolean {
    const mine = this.resources.find((x) => x.name === r.name);
    return !!mine && mine.runner === r.runner && mine.start.length === r.start.length && mine.start.every((u, i) => u === r.start[i]);
  }

  engine(res: string): ResourceEngine {
    const e = this.engines.get(res);
    if (!e) throw new UnknownResource(`no [[promoter]] manages resource "${res}"`);
    return e;
  }

  /** Generates units (systemd resources), daemon-reloads, then follows the model. */
  async open(): Promise<void> {
    for (const e of this.engines.values()) e.begin();
    const systemd = this.resources.filter((r) => r.runner === "systemd");
    if (!this.d.dryRun && systemd.length) {
      for (const r of systemd) {
        writeUnits(this.cfg["unit-dir"], generateUnits(r, { serviceName: this.cfg["service-name"], shimPath: this.cfg["shim-path"] }));
      }
      await this.systemd.daemonReload().catch((e) => this.d.log.warn(`promoter: ${(e as Error).message}`));
    }
    if (!this.d.dryRun) {
      for (const r of this.resources) {
        void this.detectPolicy(r);
        if (r["adjust-resource-on-start"]) void this.adjust(r);
      }
    }
    const model = this.d.model;
    if (!model) {
      this.d.log.warn("promoter: no DRBD model in this process (no [drbd] sender): nothing will be promoted");
      return;
    }
    this.unsubscribe = model.subscribe((u) => this.engines.get(u.resource)?.onUpdate(u), { owner: this.d.owner });
    // A reload (or a late start) finds the model filled already: act on the current state.
    if (model.isInitialized) for (const e of this.engines.values()) e.initial();
  }

  /** drbd-reactor's split-brain avoidance detection and option checks (decide.ts checkDrbdOptions). */
  private async detectPolicy(r: ResolvedResource): Promise<void> {
    const out = await this.run([this.cfg.drbdsetup, "show", "--show-defaults", "--json", r.name], 10_000);
    let shown: ShownResource | undefined;
    try {
      shown = (JSON.parse(out.stdout) as ShownResource[]).find((x) => x.resource === r.name);
    } catch {
      // not configured yet, or an old drbdsetup
    }
    if (!shown) {
      this.d.log.warn(`promoter: ${r.name}: cannot read its DRBD options (drbdsetup show): assuming quorum`);
      return;
    }
    const check = checkDrbdOptions(shown, r, existsSync("/sys/fs/cgroup/cgroup.controllers"));
    const engine = this.engines.get(r.name)!;
    engine.policy = check.policy;
    for (const w of check.warnings) this.d.log.warn(`promoter: ${r.name}: ${w}`);
    if (check.error) engine.refuse(check.error);
  }

  /** `drbdadm adjust RES` once its backing devices exist (waits up to a minute; never blocks others). */
  private async adjust(r: ResolvedResource): Promise<void> {
    const devs = await this.run([this.cfg.drbdadm, "sh-ll-dev", r.name], 10_000);
    if (devs.code === 0) {
      for (const dev of devs.stdout.split("\n").map((s) => s.trim()).filter((s) => s && s !== "none")) {
        for (let i = 0; i < 30 && !isBlock(dev); i++) await Bun.sleep(2000);
      }
    }
    const res = await this.run([this.cfg.drbdadm, "adjust", r.name], 60_000);
    if (res.code !== 0) this.d.log.warn(`promoter: drbdadm adjust ${r.name} failed: ${res.stderr.trim() || res.code}`);
  }

  async status(res?: string): Promise<ResourceReport[]> {
    const list = res === undefined ? this.resources : this.resources.filter((r) => r.name === res);
    return Promise.all(list.map(async (r) => {
      const runner = this.runners.get(r.name)!;
      const units = runner.units ? await runner.units(r).catch(() => []) : [];
      return { ...this.engine(r.name).status(), runner: r.runner, target: r.runner === "systemd" ? servicesTarget(r.name) : null, units };
    }));
  }

  statusSync(): ResourceStatus[] {
    return [...this.engines.values()].map((e) => e.status());
  }

  /** Stops following the model; stop-services-on-exit resources stop their services (the target's
   * Before= drop-in is removed first, as drbd-reactor does, so systemd does not order it after us). */
  async close(): Promise<void> {
    this.unsubscribe?.();
    // A reload that keeps a resource with its start list hands its running services over as they are.
    const stops = (r: ResolvedResource) => r["stop-services-on-exit"] && !this.d.handsOver?.(r);
    const stopping = this.resources.filter(stops);
    if (!this.d.dryRun && stopping.some((r) => r.runner === "systemd")) {
      for (const r of stopping) rmSync(join(this.cfg["unit-dir"], `${servicesTarget(r.name)}.d`, BEFORE_DROPIN), { force: true });
      await this.systemd.daemonReload().catch(() => undefined);
    }
    await Promise.all(this.resources.map((r) => this.engine(r.name).close(stops(r))));
  }
}

function isBlock(dev: string): boolean {
  try {
    return existsSync(dev) && statSync(dev).isBlockDevice();
  } catch {
    return false;
  }
}
