// Receiver `umh` (drbd-reactor's [[umh]] user mode helper): rules on DRBD state changes run
// commands. It follows the DRBD model's updates (one per changed object, old and new state, as
// drbd-reactor's plugins see them), matches every rule, and runs each match's command as
// drbd-reactor does: `sh -c COMMAND`, stdin /dev/null, a cleared environment with the update's DRBD_*
// variables, the rule's env, then HOME/TERM/PATH. Event data reaches the shell only through that
// environment, never through the command string. Runs are bounded (max-parallel, then a queue of max-pending, oldest
// dropped and counted); a command still running after `timeout` gets SIGTERM, then SIGKILL (its
// whole process group).
import { DRBD_MODEL_SERVICE } from "../../../src/plugin-kit/drbd.ts";
import * as v from "valibot";
import { definePlugin, type ReceiverContext } from "../../../src/plugin-api.ts";
import type { DrbdModel, DrbdUpdate } from "../../../src/plugin-kit/drbd.ts";
import { durationSchema } from "../../../src/plugin-kit/duration.ts";
import {
  COMMON_ENV, ConnectionRule, DeviceRule, PeerDeviceRule, ResourceRule, type Rule, ruleMatches, toRule, updateEnv,
} from "./rules.ts";
import sample from "./sample.toml" with { type: "text" };
import { startedSection } from "../../../src/plugin-kit/ctl.ts";

const schema = v.strictObject({
  resource: v.pipe(v.optional(v.array(ResourceRule), []), v.description("rules on resource changes (role, may-promote, promotion-score)")),
  device: v.pipe(v.optional(v.array(DeviceRule), []), v.description("rules on device changes (disk-state, client, quorum, size, open)")),
  peerdevice: v.pipe(v.optional(v.array(PeerDeviceRule), []),
    v.description("rules on peer device changes (replication-state, peer-disk-state, peer-client, resync-suspended)")),
  connection: v.pipe(v.optional(v.array(ConnectionRule), []),
    v.description("rules on connection changes (conn-name, connection-state, peer-role, congested)")),
  id: v.pipe(v.optional(v.string()), v.description("deprecated in drbd-reactor; accepted and ignored")),
  timeout: durationSchema("a command still running after this gets SIGTERM, 2 s later SIGKILL", "60s"),
  "max-parallel": v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 8), v.description("commands running at once")),
  "max-pending": v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1000),
    v.description("matched commands waiting for a slot; beyond it the oldest is dropped and counted")),
});
type Config = v.InferOutput<typeof schema>;

interface Job {
  rule: Rule;
  env: Record<string, string>;
  update: DrbdUpdate;
}

class Umh {
  private rules: Rule[];
  private pending: Job[] = [];
  private running = new Set<Promise<void>>();
  /** Process groups of the commands running now: close() ends them. */
  private groups = new Set<(sig: NodeJS.Signals) => void>();
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  constructor(private cfg: Config, private ctx: ReceiverContext) {
    this.rules = [
      ...cfg.resource.map((r) => toRule("resource", r)),
      ...cfg.device.map((r) => toRule("device", r)),
      ...cfg.peerdevice.map((r) => toRule("peer-device", r)),
      ...cfg.connection.map((r) => toRule("connection", r)),
    ];
  }

  /** Follows the model from here (its replay included): never before a reload commits to this instance. */
  start(): void {
    const model = this.ctx.services.get(DRBD_MODEL_SERVICE);
    if (!model) this.ctx.log.warn("no DRBD model in this process: umh rules will not fire");
    // Rules match, and their environment is taken, at the update (the model as it was then); the
    // commands run from this instance's own queue.
    else this.unsubscribe = model.subscribe((jobs: Job[]) => this.enqueue(jobs), { replay: true, owner: this.ctx, prepare: (u, m) => this.match(u, m) });
  }

  private match(u: DrbdUpdate, model: DrbdModel): Job[] | undefined {
    if (this.closed) return undefined;
    let jobs: Job[] | undefined;
    for (const rule of this.rules) {
      if (!ruleMatches(rule, u)) continue;
      // drbd-reactor's order: the update's variables, then the rule's env, then the fixed ones.
      const env = { ...updateEnv(u, model), ...rule.env, ...COMMON_ENV };
      (jobs ??= []).push({ rule, env, update: u });
    }
    return jobs;
  }

  private enqueue(jobs: Job[]): void {
    if (this.closed) return;
    for (const job of jobs) {
      this.ctx.count("matched");
      this.ctx.log.info(`rule "${job.rule.name}" matched`, { resource: job.update.resource, kind: job.update.kind, event: job.update.eventType });
      this.pending.push(job);
      if (this.pending.length > this.cfg["max-pending"]) {
        const old = this.pending.shift()!;
        this.ctx.count("dropped");
        this.ctx.log.once("dropped", `more than ${this.cfg["max-pending"]} commands waiting; dropped rule "${old.rule.name}"`);
      }
    }
    this.pump();
  }

  private pump(): void {
    while (this.running.size < this.cfg["max-parallel"] && this.pending.length) {
      const job = this.pending.shift()!;
      const p = this.exec(job).finally(() => {
        this.running.delete(p);
        this.pump();
      });
      this.running.add(p);
    }
  }

  private async exec(job: Job): Promise<void> {
    const { ctx } = this;
    const t0 = performance.now();
    let proc: ReturnType<typeof Bun.spawn>;
    try {
      // Its own process group, so a timeout kills what the command started too.
      proc = Bun.spawn(["/bin/sh", "-c", job.rule.command], { env: job.env, stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
    } catch (e) {
      ctx.count("spawn_errors");
      ctx.log.warn(`rule "${job.rule.name}": cannot run /bin/sh: ${(e as Error).message}`);
      return;
    }
    ctx.count("started");
    let timedOut = false;
    const group = (sig: NodeJS.Signals) => {
      try {
        process.kill(-proc.pid, sig);
      } catch {
        proc.kill(sig);
      }
    };
    const term = setTimeout(() => {
      timedOut = true;
      group("SIGTERM");
    }, this.cfg.timeout);
    const kill = setTimeout(() => group("SIGKILL"), this.cfg.timeout + 2000);
    this.groups.add(group);
    const [out, err] = await Promise.all([
      new Response(proc.stdout as ReadableStream).text(), new Response(proc.stderr as ReadableStream).text(),
    ]);
    const code = await proc.exited;
    clearTimeout(term);
    clearTimeout(kill);
    this.groups.delete(group);
    const ms = Math.round(performance.now() - t0);
    const fields = { resource: job.update.resource, pid: proc.pid, ms, status: code, signal: proc.signalCode ?? undefined };
    if (timedOut) {
      ctx.count("timeouts");
      ctx.log.warn(`rule "${job.rule.name}": command killed after ${this.cfg.timeout} ms timeout`, fields);
    } else if (code === 0) {
      ctx.count("exit_ok");
      ctx.log.info(`rule "${job.rule.name}": command exited 0 in ${ms} ms`, fields);
    } else {
      ctx.count("exit_failed");
      ctx.log.warn(`rule "${job.rule.name}": command failed (${proc.signalCode ?? `status ${code}`}) in ${ms} ms`, fields);
    }
    const output = (out + err).trim();
    if (output) ctx.log.debug(`rule "${job.rule.name}" output: ${output.slice(0, 2000)}`);
  }

  send(): void {
    // Rules follow the model's updates (one per changed object), not the event stream.
  }

  /** Stop: no new command; running ones get SIGTERM, then SIGKILL after 500 ms (stop is bounded). */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    this.pending = [];
    if (!this.running.size) return;
    for (const g of this.groups) g("SIGTERM");
    const all = Promise.all([...this.running]);
    let t: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((r) => (t = setTimeout(() => r(false), 500)));
    const done = await Promise.race([all.then(() => true), late]);
    clearTimeout(t);
    if (!done) for (const g of this.groups) g("SIGKILL");
    await all;
  }

  status(): Record<string, unknown> {
    return { rules: this.rules.length, running: this.running.size, pending: this.pending.length };
  }
}

export default definePlugin({
  kind: "receiver",
  name: "umh",
  reactorTable: "umh",
  ctl: {
    order: 4,
    status: startedSection("umh", "UMH"),
    template: `[[umh]]
[[umh.resource]]
command = "logger -t drbd-umh $DRBD_RES_NAME on $(uname -n) from $DRBD_OLD_ROLE to $DRBD_NEW_ROLE"
event-type = "Change"
old.role = { operator = "NotEquals", value = "Primary" }
new.role = "Primary"`,
  },
  needs: ["events2"],
  description: "drbd-reactor's user mode helper: rules on DRBD state changes run `sh -c` commands with DRBD_* env",
  schema,
  sample,
  create(config, ctx) {
    return new Umh(config, ctx);
  },
});
