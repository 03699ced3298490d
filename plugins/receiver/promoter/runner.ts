// Runners carry out the engine's decisions. systemd (default): start/stop drbd-services@RES.target,
// freeze/thaw its units (systemctl freeze, cgroup v2), state from `systemctl show`. shell: the start
// entries in order, stop entries (default start reversed) - each through /bin/sh -c, because
// runner = "shell" is the user's explicit choice of a shell, as in drbd-reactor.
import type { ResolvedResource } from "./config.ts";
import type { Runner } from "./engine.ts";
import { promoteService, servicesTarget } from "../../../src/plugin-kit/systemd.ts";
import { startUnits } from "./units.ts";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv without a shell, stdin closed (systemctl would otherwise ask for passwords). */
export async function exec(argv: string[], timeoutMs = 600_000): Promise<ExecResult> {
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env } });
  } catch (e) {
    return { code: 127, stdout: "", stderr: `cannot run ${argv[0]}: ${(e as Error).message}` };
  }
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout as ReadableStream).text(), new Response(proc.stderr as ReadableStream).text(),
  ]);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, stdout, stderr };
}

function failed(what: string, r: ExecResult): Error {
  const detail = r.stderr.trim().split("\n").slice(-2).join(" ") || `exit status ${r.code}`;
  return new Error(`${what}: ${detail}`);
}

export interface SystemdRunnerOptions {
  systemctl: string;
  run?: typeof exec;
}

export class SystemdRunner implements Runner {
  private run: typeof exec;
  constructor(private o: SystemdRunnerOptions) {
    this.run = o.run ?? exec;
  }

  private ctl(...args: string[]): Promise<ExecResult> {
    return this.run([this.o.systemctl, ...args]);
  }

  async daemonReload(): Promise<void> {
    const r = await this.ctl("daemon-reload");
    if (r.code !== 0) throw failed("systemctl daemon-reload", r);
  }

  async start(res: ResolvedResource): Promise<void> {
    const target = servicesTarget(res.name);
    await this.ctl("reset-failed", target);
    const r = await this.ctl("start", target);
    if (r.code !== 0) throw failed(`systemctl start ${target}`, r);
    if (!(await this.isActive(res))) throw new Error(`${target} is not active after start`);
  }

  async stop(res: ResolvedResource): Promise<void> {
    // The promote unit is PartOf= the target and stops with it, but unordered: naming it too makes
    // systemctl wait until the demotion ran, so peers see the resource promotable when this returns.
    const target = servicesTarget(res.name);
    const r = await this.ctl("stop", target, promoteService(res.name));
    if (r.code !== 0) throw failed(`systemctl stop ${target}`, r);
  }

  private async targetUnits(res: ResolvedResource): Promise<string[]> {
    const target = servicesTarget(res.name);
    const r = await this.ctl("list-dependencies", "--no-pager", "--plain", target);
    if (r.code !== 0) throw failed(`systemctl list-dependencies ${target}`, r);
    // The target itself and the promote unit (no processes) are not frozen; mounts cannot be.
    const promote = promoteService(res.name);
    return r.stdout.split("\n").map((l) => l.trim()).filter((u) => u && u !== target && u !== promote && !u.endsWith(".mount") &&
      !u.endsWith(".target") && !u.startsWith("drbd@"));
  }

  private async freezeThaw(res: ResolvedResource, verb: "freeze" | "thaw"): Promise<void> {
    const units = (await this.targetUnits(res)).filter((u) => startUnits(res).includes(u));
    if (!units.length) throw new Error(`no units to ${verb} in ${servicesTarget(res.name)}`);
    const errors: string[] = [];
    for (const u of units) {
      const r = await this.ctl(verb, u);
      if (r.code !== 0) errors.push(`${u}: ${r.stderr.trim() || r.code}`);
    }
    if (errors.length === units.length) throw new Error(`systemctl ${verb}: ${errors.join("; ")}`);
  }

  freeze(res: ResolvedResource): Promise<void> {
    return this.freezeThaw(res, "freeze");
  }

  thaw(res: ResolvedResource): Promise<void> {
    return this.freezeThaw(res, "thaw");
  }

  async isActive(res: ResolvedResource): Promise<boolean> {
    const r = await this.ctl("show", "--property=ActiveState", servicesTarget(res.name));
    return r.stdout.trim() === "ActiveState=active";
  }

  async units(res: ResolvedResource): Promise<{ unit: string; state: string }[]> {
    const names = [servicesTarget(res.name), promoteService(res.name), ...startUnits(res)];
    const r = await this.ctl("show", "--property=Id,ActiveState,SubState,FreezerState", ...names);
    const blocks = r.stdout.trim().split(/\n\n+/);
    return names.map((unit, i) => {
      const props = Object.fromEntries((blocks[i] ?? "").split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
      const active = props["ActiveState"] ?? "unknown";
      const frozen = props["FreezerState"] && props["FreezerState"] !== "running" ? `, ${props["FreezerState"]}` : "";
      return { unit, state: `${active}${props["SubState"] ? ` (${props["SubState"]}${frozen})` : ""}` };
    });
  }
}

export class ShellRunner implements Runner {
  private active = new Set<string>();
  constructor(private run: typeof exec = exec) {}

  private async each(cmds: readonly string[], what: string): Promise<void> {
    for (const c of cmds) {
      const r = await this.run(["/bin/sh", "-c", c]);
      if (r.code !== 0) throw failed(`${what} "${c}"`, r);
    }
  }

  async start(res: ResolvedResource): Promise<void> {
    await this.each(res.start, "start");
    this.active.add(res.name);
  }

  async stop(res: ResolvedResource): Promise<void> {
    this.active.delete(res.name);
    await this.each(res.stop, "stop");
  }

  freeze(): Promise<void> {
    return Promise.reject(new Error("the shell runner cannot freeze services"));
  }

  thaw(): Promise<void> {
    return Promise.reject(new Error("the shell runner cannot thaw services"));
  }

  isActive(res: ResolvedResource): Promise<boolean> {
    return Promise.resolve(this.active.has(res.name));
  }
}
