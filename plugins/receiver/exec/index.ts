// exec receiver: runs a command (argv array, no shell) per event or per batch, the event(s) as
// STOREVENTD_* environment variables and as JSON on stdin; timeout (SIGTERM, then SIGKILL) and
// bounded parallelism.
import { accessSync, constants, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import * as v from "valibot";
import { definePlugin, Duration, type ReceiverContext, type StorageEvent } from "../../../src/plugin-api.ts";
import { batchEnv, eventEnv } from "./env.ts";
import sample from "./sample.toml" with { type: "text" };

const schema = v.strictObject({
  command: v.pipe(
    v.array(v.string()),
    v.minLength(1, "command needs at least the program: command = [\"/path/to/prog\", \"arg\"]"),
    v.check((c) => c[0] !== "", "command[0] is empty"),
    v.description('argv array, run without a shell (write ["sh", "-c", "..."] to get one); the program is looked up in PATH when not absolute.'),
  ),
  batch: v.pipe(
    v.optional(v.boolean(), false),
    v.description("One run per batch with NDJSON (one event per line) on stdin, instead of one run per event."),
  ),
  timeout: v.pipe(v.optional(Duration, "30s"), v.description("A run longer than this gets SIGTERM, then SIGKILL after kill_after.")),
  kill_after: v.pipe(v.optional(Duration, "5s"), v.description("Grace between SIGTERM and SIGKILL.")),
  parallel: v.pipe(
    v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64)), 4),
    v.description("Runs at the same time at most."),
  ),
  env: v.pipe(
    v.optional(v.record(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "bad environment variable name")), v.string()), {}),
    v.description("Extra environment for the command (it gets only PATH, these and STOREVENTD_*)."),
  ),
  cwd: v.pipe(v.optional(v.string(), "/"), v.description("Working directory of the command.")),
});

type Opts = v.InferOutput<typeof schema>;

export interface RunResult {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  stderr: string;
}

export class ExecReceiver {
  private running = 0;
  private closed = false;
  private waiters: (() => void)[] = [];
  private children = new Set<ReturnType<typeof Bun.spawn>>();
  private last: (RunResult & { at: string }) | undefined;
  private stats = { runs: 0, ok: 0, failed: 0, timeouts: 0 };

  constructor(private opts: Opts, private program: string, private ctx: ReceiverContext) {}

  private async slot(): Promise<void> {
    while (this.running >= this.opts.parallel && !this.closed) await new Promise<void>((r) => this.waiters.push(r));
    this.running++;
  }

  private release(): void {
    this.running--;
    this.waiters.shift()?.();
  }

  /** One run: returns how it ended; never throws (a spawn failure is code null). */
  async run(env: Record<string, string>, stdin: string): Promise<RunResult> {
    await this.slot();
    try {
      // Stopping: no new command (events still waiting are the core's to count as dropped).
      if (this.closed) return { code: null, signal: null, timedOut: false, stderr: "receiver stopped" };
      let child: ReturnType<typeof Bun.spawn>;
      try {
        child = Bun.spawn([this.program, ...this.opts.command.slice(1)], {
          env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...this.opts.env, ...env },
          cwd: this.opts.cwd,
          stdin: new TextEncoder().encode(stdin),
          stdout: "ignore",
          stderr: "pipe",
          detached: true, // its own process group: a timeout kills the command and its children
        });
      } catch (e) {
        this.ctx.count("spawn_errors");
        this.ctx.log.once("spawn", `exec: cannot run ${this.program}: ${e instanceof Error ? e.message : String(e)}`);
        return { code: null, signal: null, timedOut: false, stderr: String(e) };
      }
      this.children.add(child);
      let timedOut = false;
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const termTimer = setTimeout(() => {
        timedOut = true;
        killGroup(child, "SIGTERM");
        killTimer = setTimeout(() => killGroup(child, "SIGKILL"), this.opts.kill_after);
      }, this.opts.timeout);
      const stderr = readTail(child.stderr as ReadableStream<Uint8Array>, 2048);
      await child.exited;
      clearTimeout(termTimer);
      clearTimeout(killTimer);
      this.children.delete(child);
      // A background grandchild may hold stderr open: don't wait for it long.
      const err = await Promise.race([stderr, Bun.sleep(200).then(() => "")]);
      const signal = child.signalCode == null ? null : String(child.signalCode);
      return { code: signal ? null : child.exitCode, signal, timedOut, stderr: err };
    } finally {
      this.release();
    }
  }

  private account(r: RunResult, n: number): void {
    this.stats.runs++;
    this.ctx.count("runs");
    if (r.timedOut) {
      this.stats.timeouts++;
      this.ctx.count("timeouts");
    }
    if (r.code === 0 && !r.timedOut) {
      this.stats.ok++;
      this.ctx.count("sent", n);
      return;
    }
    this.stats.failed++;
    this.ctx.count("failed");
    // Per exit status (0..255) or signal: a bounded set of counter names.
    if (r.signal) this.ctx.count(`signal_${r.signal}`);
    else if (r.code !== null) this.ctx.count(`exit_${r.code}`);
    this.ctx.count("errors", n);
    const how = r.timedOut ? "timed out" : r.signal ? `killed by ${r.signal}` : r.code === null ? "did not start" : `exited ${r.code}`;
    this.last = { ...r, at: new Date().toISOString() };
    this.ctx.log.once(`fail-${how}`, `exec: ${this.opts.command[0]} ${how}`, r.stderr ? { stderr: r.stderr.slice(-300) } : undefined);
  }

  async send(events: readonly StorageEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (this.opts.batch) {
      const r = await this.run(batchEnv(events), events.map((e) => JSON.stringify(e)).join("\n") + "\n");
      this.account(r, events.length);
      return;
    }
    await Promise.all(
      events.map(async (e) => {
        const r = await this.run(eventEnv(e), JSON.stringify(e) + "\n");
        this.account(r, 1);
      }),
    );
  }

  /** Stops spawning, SIGTERMs every running command's group, SIGKILLs it after kill_after (at
   * most 500 ms: stop is bounded), and waits for them to exit. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
    const kids = [...this.children];
    for (const c of kids) killGroup(c, "SIGTERM");
    const exited = Promise.all(kids.map((c) => c.exited));
    if (!(await settledWithin(exited, Math.min(this.opts.kill_after, 500)))) for (const c of kids) killGroup(c, "SIGKILL");
    await settledWithin(exited, 500);
  }

  status(): Record<string, unknown> {
    return { command: this.opts.command, running: this.running, ...this.stats, last_failure: this.last };
  }
}

/** True when p settled within ms (the timer does not outlive the race). */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((r) => (t = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(t);
  }
}

function killGroup(child: ReturnType<typeof Bun.spawn>, sig: NodeJS.Signals): void {
  try {
    process.kill(-child.pid, sig);
  } catch {
    child.kill(sig);
  }
}

async function readTail(stream: ReadableStream<Uint8Array>, max: number): Promise<string> {
  let tail = Buffer.alloc(0);
  for await (const chunk of stream) {
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > max) tail = tail.subarray(tail.length - max);
  }
  return tail.toString("utf8");
}

/** The program's path; a config error when it is missing or not executable. */
function resolveCommand(prog: string): string {
  const found = isAbsolute(prog) ? prog : Bun.which(prog);
  if (!found) throw new Error(`command: ${prog} not found in PATH`);
  try {
    accessSync(found, constants.X_OK);
    const st = statSync(found);
    if (!st.isFile() || (st.mode & 0o111) === 0) throw new Error("not executable");
  } catch {
    throw new Error(`command: ${found} is not an executable file`);
  }
  return found;
}

export default definePlugin({
  kind: "receiver",
  name: "exec",
  description: "Runs a command per event (or per batch) with the event in STOREVENTD_* variables and as JSON on stdin.",
  schema,
  sample,
  validate: (config) => void resolveCommand(config.command[0]!),
  create(config, ctx) {
    const found = resolveCommand(config.command[0]!);
    return new ExecReceiver(config, found, ctx);
  },
});
