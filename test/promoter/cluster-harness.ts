// The promoter's three-node systemd cluster for tests (cluster.test.ts, cluster-ops.test.ts): boots
// the nspawn nodes of test/cluster/cluster-up.sh under a cluster name of its own (machine names,
// netns and cgroups are prefixed with it, so suites can run side by side), installs storeventd in
// each (test/promoter/cluster/setup-node.sh) and runs the DRBD simulator behind every node's fake
// drbdsetup through the shared directory /sim. Reachability follows the nodes' in-node probers.
import { expect } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileSim } from "./cluster/file-sim.ts";

/** Longer than one prober round (the probers debounce a link change over about 1.5 s). */
const DOUBLE_GRACE_MS = 2000;
import { SimCluster } from "./sim.ts";

export const REPO = join(import.meta.dir, "../..");
const CACHE = process.env.STOREVENTD_CLUSTER_CACHE ?? "/var/tmp/storeventd-cluster";

export interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs a command without blocking the event loop: the simulator must keep answering meanwhile. */
export async function sh(argv: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<Run> {
  const p = Bun.spawn(argv, { env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, out, err };
}

/** The .deb to install: STOREVENTD_DEB, else dist/storeventd_*_amd64.deb (`npm run package`) when
 * it is not older than dist/storeventd (a stale package would test an old daemon). */
export function findDeb(): string | undefined {
  if (process.env.STOREVENTD_DEB) return process.env.STOREVENTD_DEB;
  const dist = join(REPO, "dist");
  const deb = existsSync(dist) ? readdirSync(dist).find((f) => /^storeventd_.*_amd64\.deb$/.test(f)) : undefined;
  if (!deb) return undefined;
  const bin = join(dist, "storeventd");
  if (existsSync(bin) && statSync(join(dist, deb)).mtimeMs < statSync(bin).mtimeMs) return undefined;
  return join(dist, deb);
}

/** A cluster name for this run: `prefix` plus random letters, 6 in all. A fixed name let two runs on
 * one machine (a developer's and CI's) tear down or reuse each other's nodes. */
export function clusterName(prefix: string): string {
  const rand = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
  return (prefix + rand).slice(0, 6);
}

export class PromoterCluster {
  readonly work: string;
  readonly leaders = new Map<string, number>();
  readonly timings: string[] = [];
  simDir = "";
  fsim!: FileSim;

  /** name: 1-6 of [a-z0-9], unique among the clusters running on this machine. */
  constructor(readonly name: string, readonly nodes: string[], readonly resources: string[]) {
    this.work = join(CACHE, name);
  }

  private env(): Record<string, string> {
    return { CLUSTER: this.name, CACHE, WORK: this.work, ALL_NODES: this.nodes.join(" "), NSPAWN_ARGS: `--bind=${this.simDir}:/sim` };
  }

  /** Boots the nodes, installs storeventd with `config` in each, starts it; then reachability follows the probers. */
  async up(config: string): Promise<void> {
    if (process.getuid?.() !== 0) throw new Error("the cluster test needs root (nspawn, netns, overlayfs)");
    for (const t of ["systemd-nspawn", "debootstrap", "nsenter"]) if (!Bun.which(t)) throw new Error(`missing ${t}: apt-get install -y systemd-container debootstrap util-linux`);
    if (!existsSync("/lib/systemd/system/drbd-promote@.service")) throw new Error("missing drbd-utils: apt-get install -y drbd-utils");
    const deb = findDeb();
    if (!deb && !existsSync(join(REPO, "dist/storeventd"))) throw new Error("no .deb and no dist/storeventd: npm run package");
    this.simDir = mkdtempSync(join(CACHE, "sim-"));
    this.fsim = new FileSim(this.simDir, this.resources.map((r, i) => new SimCluster(r, this.nodes, 1000 + i)), true);
    await sh([join(REPO, "test/cluster/cluster-down.sh")], this.env());
    rmSync(this.work, { recursive: true, force: true });
    const up = await sh([join(REPO, "test/cluster/cluster-up.sh")], this.env(), 300_000);
    if (up.code !== 0) throw new Error(`cluster-up failed:\n${up.out}${up.err}`);
    for (const n of this.nodes) {
      this.leaders.set(n, Number((await sh(["cat", join(this.work, n, "leader.pid")])).out.trim()));
    }
    const cfg = join(this.simDir, "storeventd.toml");
    writeFileSync(cfg, config);
    const t0 = performance.now();
    for (const n of this.nodes) {
      const r = await sh([join(import.meta.dir, "cluster/setup-node.sh"), join(this.work, n), String(this.leaders.get(n)), cfg, ...(deb ? [deb] : [])]);
      if (r.code !== 0) throw new Error(`setting up ${n} failed:\n${r.out}${r.err}`);
    }
    this.timings.push(`install + start on ${this.nodes.length} nodes: ${Math.round(performance.now() - t0)} ms (${deb ? "from the .deb" : "binary by hand"})`);
    this.fsim.probe();
  }

  /** Stops the nodes (the simulator keeps answering while their ExecStop demotes), removes all state. */
  async down(): Promise<void> {
    await sh([join(REPO, "test/cluster/cluster-down.sh")], this.env());
    this.fsim?.close();
    rmSync(this.work, { recursive: true, force: true });
    if (this.simDir) rmSync(this.simDir, { recursive: true, force: true });
  }

  /** A command inside node n (nsenter into its PID 1's namespaces). */
  inNode(n: string, ...argv: string[]): Promise<Run> {
    return sh(["nsenter", "-t", String(this.leaders.get(n)), "-a", ...argv], {}, 30_000);
  }

  /** Node n's network link (in its own netns, never traffic from here). */
  link(n: string, state: "up" | "down"): Promise<Run> {
    return sh(["ip", "-n", `${this.name}-${n}`, "link", "set", "eth0", state]);
  }

  /** The nodes running resource res's service (app@RES writes /sim/active.RES.NODE). */
  active(res = this.resources[0]!): string[] {
    return this.nodes.filter((n) => existsSync(join(this.simDir, `active.${res}.${n}`)));
  }

  /** The invariants checked at every sample: never two writable Primaries. */
  /** Two writable Primaries of one resource must never last. The simulator's links come from probers
   * inside the nodes, which see a healed link one prober round apart: in that partial heal a frozen
   * old Primary can look quorate next to the new one for up to a round (real DRBD would force it to
   * Secondary on connect). A double that outlives DOUBLE_GRACE_MS is a split brain and fails. */
  checkPrimaries(): void {
    const now = performance.now();
    // (a frozen Primary without quorum may coexist with the majority's new one: it cannot write)
    const doubles = this.fsim.sims.filter((s) => s.primaries().filter((n) => s.quorum(n)).length > 1)
      .map((s) => `${s.res}: ${s.primaries().join(",")}`);
    if (!doubles.length) {
      this.doubleSince = undefined;
      return;
    }
    this.doubleSince ??= now;
    expect(now - this.doubleSince, `two writable Primaries: ${doubles.join("; ")}`).toBeLessThan(DOUBLE_GRACE_MS);
  }

  /** Every transient double the simulator recorded (for the test's report). */
  transientDoubles(): string[] {
    return this.fsim.doublePrimary();
  }

  private doubleSince: number | undefined;

  /** Samples every 25 ms until pred holds; returns the milliseconds it took. */
  async waitFor(what: string, pred: () => boolean, timeoutMs: number): Promise<number> {
    const t0 = performance.now();
    while (performance.now() - t0 < timeoutMs) {
      this.checkPrimaries();
      if (pred()) return Math.round(performance.now() - t0);
      await Bun.sleep(25);
    }
    const logs = await Promise.all(this.nodes.filter((n) => this.leaders.has(n)).map(async (n) =>
      `${n}: ${(await this.inNode(n, "journalctl", "-u", "storeventd", "-u", "app@*", "-n", "15", "--no-pager", "-o", "cat")).out}`));
    throw new Error(`${what}: timed out after ${timeoutMs} ms; active: [${this.active()}], primaries: [${this.fsim.sim.primaries()}]\n${logs.join("\n")}`);
  }

  /** Samples every 25 ms for ms milliseconds; inv must hold at every sample. */
  async hold(ms: number, inv: () => void): Promise<void> {
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      this.checkPrimaries();
      inv();
      await Bun.sleep(25);
    }
  }

  /** Node n's promoter decisions once `event` is among them (the journal lags the units a little:
   * a service's marker goes while `systemctl stop` runs, the decision is logged when it returns). */
  async eventsWith(n: string, event: string, res = this.resources[0]!, timeoutMs = 5000): Promise<string[]> {
    const t0 = performance.now();
    let ev = await this.promoterEvents(n, res);
    while (!ev.includes(event) && performance.now() - t0 < timeoutMs) {
      await Bun.sleep(100);
      ev = await this.promoterEvents(n, res);
    }
    return ev;
  }

  /** Node n's promoter decisions for res, from its journal: "DRBD_PROMOTER_STARTED:may_promote". */
  async promoterEvents(n: string, res = this.resources[0]!): Promise<string[]> {
    return (await this.inNode(n, "journalctl", "-u", "storeventd", "-o", "cat", "--no-pager")).out.split("\n")
      .filter((l) => l.startsWith("{") && l.includes("DRBD_PROMOTER_"))
      .map((l) => JSON.parse(l) as { event_type: string; extension: { resource: string; reason?: string } })
      .filter((e) => e.extension.resource === res)
      .map((e) => `${e.event_type}:${e.extension.reason ?? ""}`);
  }
}
