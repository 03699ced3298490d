// The cluster simulator behind the fake drbdsetup (./drbdsetup): a SimCluster whose nodes are real
// processes or containers. It polls $dir/req for requests (one file per drbdsetup invocation),
// answers commands in $dir/resp and writes each `events2` invocation's stream to $dir/streams/ID:
// the node's initial dump, then every change of that node's view, as the events2 lines DRBD prints.
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { SimCluster } from "../sim.ts";

export class FileSim {
  private streams = new Map<string, Set<string>>();
  private timer: ReturnType<typeof setInterval>;
  private booting = new Set<string>();
  /** Every command the nodes ran, in order: "alpha: primary r0 -> 0". */
  readonly log: string[] = [];

  /** With bootOnConnect, every node starts powered off and boots (joins DRBD) when its first
   * `drbdsetup events2` runs: a cold start where quorum and may_promote arrive as nodes come up. */
  constructor(readonly dir: string, readonly sim: SimCluster, bootOnConnect = false) {
    if (bootOnConnect) {
      for (const n of sim.nodes) {
        sim.up.set(n, false);
        this.booting.add(n);
      }
    }
    for (const d of ["req", "resp", "streams"]) mkdirSync(join(dir, d), { recursive: true });
    for (const n of sim.nodes) {
      this.streams.set(n, new Set());
      sim.subscribe(n, (line) => {
        for (const id of this.streams.get(n)!) appendFileSync(join(dir, "streams", id), `${line}\n`);
      });
    }
    this.timer = setInterval(() => this.poll(), 20);
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** A node died: its streams end (their readers died with it). */
  kill(node: string): void {
    this.streams.get(node)!.clear();
    this.sim.kill(node);
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
      if (!this.sim.nodes.includes(node)) {
        this.answer(id, 10, "", `fake drbdsetup: unknown node ${node}\n`);
      } else if (kind === "events2") {
        if (!this.sim.up.get(node) && this.booting.delete(node)) this.sim.boot(node);
        const stream = join(this.dir, "streams", id);
        writeFileSync(stream, this.sim.up.get(node) ? `${this.sim.dump(node).join("\n")}\n` : "exists -\n");
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
    let r: { code: number; stdout?: string; stderr: string };
    if (res !== undefined && res !== this.sim.res && cmd !== "show") {
      r = { code: 10, stderr: `${res}: No such resource\n` };
    } else if (cmd === "primary") r = this.sim.primary(node);
    else if (cmd === "secondary") r = this.sim.secondary(node, force);
    else if (cmd === "show") r = { code: 0, stdout: `${JSON.stringify([{ resource: this.sim.res, options: { quorum: "majority" } }])}\n`, stderr: "" };
    else if (cmd === "events2-now") {
      r = { code: 0, stdout: `${this.sim.dump(node).join("\n").replace(/^exists -$/m, "exists -")}\n`, stderr: "" };
    } else r = { code: 20, stderr: `fake drbdsetup: '${cmd}' is not faked\n` };
    this.log.push(`${node}: ${argv.join(" ")} -> ${r.code}`);
    this.answer(id, r.code, r.stdout ?? "", r.stderr);
  }
}

