// The cluster simulator behind the fake drbdsetup (./drbdsetup): one SimCluster per DRBD resource,
// all over the same nodes, which are real processes or containers. It polls $dir/req for requests
// (one file per drbdsetup invocation), answers commands in $dir/resp and writes each `events2`
// invocation's stream to $dir/streams/ID: the node's initial dump of every resource, then every
// change of that node's view, as the events2 lines DRBD prints.
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SimCluster } from "../sim.ts";

/** The daemon config's DRBD part: the drbd sender on the fake drbdsetup, promoter events as JSON
 * on stdout (the journal, under systemd), for the tests to read. */
export function drbdConfig(drbdsetup: string): string {
  return `[drbd]
type = "sender"
path = "${drbdsetup}"
restart-min = "200ms"
restart-max = "1s"

[events]
type = "receiver"
plugin = "stdout"
format = "json"
filter = { system = ["drbd"] }
`;
}

/** What `drbdsetup show --show-defaults --json` prints of the options the promoter checks, for a
 * resource set up as the promoter documentation asks (quorum majority, io-error). */
export function showJson(sim: SimCluster): object {
  return {
    resource: sim.res,
    options: {
      "auto-promote": false, quorum: "majority", "on-no-quorum": "io-error", "on-no-data-accessible": "io-error",
      "on-suspended-primary-outdated": "force-secondary",
    },
    connections: sim.nodes.slice(1).map(() => ({ net: { "rr-conflict": "disconnect", fencing: "dont-care" } })),
  };
}

/** What `drbdsetup status --json RES` prints on node n, cut to the keys drbd-reactorctl reads. */
export function statusJson(sim: SimCluster, n: string): object {
  const v = sim.view(n);
  return {
    name: v.name, role: v.role, suspended: false,
    devices: v.devices.map((d) => ({ volume: d.volume, minor: d.minor, "disk-state": d.disk, client: d.client, quorum: d.quorum })),
    connections: v.connections.map((c) => ({ "peer-node-id": c.peer, name: c.connName, "connection-state": c.connection, "peer-role": c.role })),
  };
}

export class FileSim {
  readonly sims: SimCluster[];
  readonly nodes: string[];
  private streams = new Map<string, Set<string>>();
  private timer: ReturnType<typeof setInterval>;
  private booting = new Set<string>();
  /** Every command the nodes ran, in order: "alpha: primary r0 -> 0". */
  readonly log: string[] = [];

  /** With bootOnConnect, every node starts powered off and boots (joins DRBD) when its first
   * `drbdsetup events2` runs: a cold start where quorum and may_promote arrive as nodes come up. */
  /** Reachability observed by the nodes' probers (see probe()); undefined: the test sets it. */
  private probing = false;
  /** What changed from observation, for the test's record: "n1 down", "cut n1|n2" ... */
  readonly observed: string[] = [];

  constructor(readonly dir: string, sims: SimCluster | SimCluster[], bootOnConnect = false) {
    this.sims = Array.isArray(sims) ? sims : [sims];
    this.nodes = this.sims[0]!.nodes;
    for (const n of this.nodes) {
      this.streams.set(n, new Set());
      if (bootOnConnect) this.booting.add(n);
    }
    for (const sim of this.sims) {
      for (const n of this.nodes) {
        if (bootOnConnect) sim.up.set(n, false);
        sim.subscribe(n, (line) => {
          for (const id of this.streams.get(n)!) appendFileSync(join(dir, "streams", id), `${line}\n`);
        });
      }
    }
    for (const d of ["req", "resp", "streams"]) mkdirSync(join(dir, d), { recursive: true });
    this.timer = setInterval(() => {
      this.poll();
      if (this.probing) this.observe();
    }, 20);
  }

  /** From now on reachability follows what the nodes see: each node's prober (a loop pinging its
   * peers from inside the node) writes the peers it heard to $dir/reach.NODE every ~200 ms. Two
   * nodes are connected when each hears the other; a node whose file is older than staleMs is down
   * (its PID 1 died, or it hangs). */
  probe(staleMs = 1500): void {
    this.probing = true;
    this.staleMs = staleMs;
  }

  private staleMs = 1500;

  private observe(): void {
    const hears = new Map<string, Set<string> | null>();
    const now = Date.now();
    for (const n of this.nodes) {
      try {
        const path = join(this.dir, `reach.${n}`);
        const fresh = now - statSync(path).mtimeMs < this.staleMs;
        hears.set(n, fresh ? new Set(readFileSync(path, "utf8").split(/\s+/).filter(Boolean)) : null);
      } catch {
        hears.set(n, null);
      }
    }
    for (const n of this.nodes) {
      const alive = hears.get(n) !== null;
      if (!alive && this.sim.up.get(n)) {
        this.observed.push(`${n} down`);
        this.kill(n, true);
      } else if (alive && !this.sim.up.get(n) && !this.booting.has(n)) {
        this.observed.push(`${n} up`);
        this.boot(n);
      }
    }
    const cuts: string[] = [];
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a >= b) continue;
        const ha = hears.get(a);
        const hb = hears.get(b);
        if (ha && hb && !(ha.has(b) && hb.has(a))) cuts.push(`${a}|${b}`);
      }
    }
    const before = this.observed.length;
    for (const s of this.sims) s.setCuts(cuts);
    const key = cuts.join(",");
    if (key !== this.lastCuts) {
      this.observed.splice(before, 0, `cuts [${key}]`);
      this.lastCuts = key;
    }
  }

  private lastCuts = "";

  /** The first (or only) resource's simulator. */
  get sim(): SimCluster {
    return this.sims[0]!;
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Any two writable Primaries of any resource, ever (must stay empty). */
  doublePrimary(): string[] {
    return this.sims.flatMap((s) => s.doublePrimary.map((p) => `${s.res}: ${p}`));
  }

  /** A node died: its streams end (their readers died with it) unless keepStreams (it may only hang). */
  kill(node: string, keepStreams = false): void {
    if (!keepStreams) this.streams.get(node)!.clear();
    for (const s of this.sims) s.kill(node);
  }

  boot(node: string): void {
    for (const s of this.sims) s.boot(node);
  }

  isolate(node: string): void {
    for (const s of this.sims) s.isolate(node);
  }

  heal(): void {
    for (const s of this.sims) s.heal();
  }

  private poll(): void {
    let files: string[];
    try {
      files = readdirSync(join(this.dir, "req")).filter((f) => !f.endsWith(".tmp")).sort();
    } catch {
      return;
    }
    for (const f of files) {
      const m = /^(.+)\.(\d+)\.(events2|cmd)$/.exec(f);
      const path = join(this.dir, "req", f);
      const text = readFileSync(path, "utf8");
      rmSync(path, { force: true });
      if (!m) continue;
      const [, node, pid, kind] = m as unknown as [string, string, string, string];
      const id = `${node}.${pid}`;
      if (!this.nodes.includes(node)) {
        this.answer(id, 10, "", `fake drbdsetup: unknown node ${node}\n`);
      } else if (kind === "events2") {
        if (this.booting.delete(node)) this.boot(node);
        const stream = join(this.dir, "streams", id);
        const dump = this.sims.flatMap((s) => (s.up.get(node) ? s.dump(node).slice(0, -1) : []));
        writeFileSync(stream, [...dump, "exists -"].join("\n") + "\n");
        this.streams.get(node)!.add(id);
        writeFileSync(`${stream}.ready`, "");
      } else {
        this.command(id, node, text.split("\n").filter(Boolean));
      }
    }
  }

  private answer(id: string, code: number, out: string, err: string): void {
    const base = join(this.dir, "resp", id);
    writeFileSync(`${base}.out`, out);
    writeFileSync(`${base}.err`, err);
    writeFileSync(`${base}.code.tmp`, String(code));
    renameSync(`${base}.code.tmp`, `${base}.code`);
  }

  private command(id: string, node: string, argv: string[]): void {
    const [cmd = "", ...rest] = argv;
    const force = rest.some((a) => a === "--force" || a === "--force=yes");
    const res = rest.find((a) => !a.startsWith("-") && a !== "events2");
    const sim = this.sims.find((s) => s.res === res);
    let r: { code: number; stdout?: string; stderr: string };
    if (!sim) r = { code: 10, stderr: `${res ?? "(none)"}: No such resource\n` };
    else if (cmd === "primary") r = sim.primary(node);
    else if (cmd === "secondary") r = sim.secondary(node, force);
    else if (cmd === "down") r = { code: 0, stderr: "" };
    else if (cmd === "show") r = { code: 0, stdout: `${JSON.stringify([showJson(sim)])}\n`, stderr: "" };
    else if (cmd === "status") r = { code: 0, stdout: `${JSON.stringify([statusJson(sim, node)])}\n`, stderr: "" };
    else if (cmd === "events2-now") r = { code: 0, stdout: `${sim.dump(node).join("\n")}\n`, stderr: "" };
    else r = { code: 20, stderr: `fake drbdsetup: '${cmd}' is not faked\n` };
    this.log.push(`${node}: ${argv.join(" ")} -> ${r.code}`);
    this.answer(id, r.code, r.stdout ?? "", r.stderr);
  }
}
