// Sender `drbd`: owns a `drbdsetup events2 --full --poll` child, tokenises its stdout (native reader
// thread, TypeScript fallback) and emits one Events2Record per line. The core feeds those to the one
// DrbdModel, which turns them into events. The first `exists -` makes the sender ready.
//
// drbdsetup missing, exiting, or printing only garbage: log, back off (capped, jittered), start it
// again, and emit the restart marker first so the model treats the new dump as a resync (diff,
// then DRBD_EVENTS_RESTARTED). Receivers keep running meanwhile.
import * as v from "valibot";
import { definePlugin, type Sender, type SenderContext } from "../../../src/plugin-api.ts";
import type { Events2Record } from "../../../src/plugin-api.ts";
import { decodeEvents2Batch, Events2Lane, Events2LineSplitter, restartMarker, tokenizeEvents2, type Events2FastApply } from "../../../src/plugin-kit/drbd.ts";
import { durationSchema } from "../../../src/plugin-kit/duration.ts";
import { backoffDelay, sleep } from "../../../src/plugin-kit/backoff.ts";
import { replayEvents2 } from "./replay.ts";
import sample from "./sample.toml" with { type: "text" };

const schema = v.strictObject({
  path: v.pipe(v.optional(v.string(), "drbdsetup"),
    v.description("drbdsetup to run as `drbdsetup events2 --full --poll`: a name looked up in PATH, or a path")),
  "statistics-poll-interval": durationSchema(
    "how often to write `n` to drbdsetup's stdin for fresh statistics: seconds (drbd-reactor) or a duration", 60),
  "restart-min": durationSchema("first delay before restarting drbdsetup", "1s"),
  "restart-max": durationSchema("longest delay between drbdsetup restarts", "60s"),
  "max-line": v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(256)), 1 << 20),
    v.description("longest events2 line in bytes; longer lines are counted as garbage")),
  "garbage-limit": v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 100),
    v.description("this many garbage lines in a row restart drbdsetup")),
});
type Config = v.InferOutput<typeof schema>;

interface RunResult {
  reason: string;
  dumped: boolean;
}

class DrbdSender implements Sender {
  private proc: ReturnType<typeof Bun.spawn> | null = null;
  private runs = 0;
  private restarts = 0;
  private lines = 0;
  private garbage = 0;
  private lastError = "";
  private ready = false;
  private killForGarbage: (() => void) | null = null;

  constructor(private cfg: Config, private ctx: SenderContext) {}

  async run(): Promise<void> {
    const backoff = { minTimeout: this.cfg["restart-min"], maxTimeout: this.cfg["restart-max"], multiplier: 2, jitter: 0.5 };
    let attempt = 0;
    const { signal, log } = this.ctx;
    while (!signal.aborted) {
      const res = await this.runOnce();
      if (!this.ready) {
        // Nothing to wait for: the daemon must not hang in startup because DRBD is absent.
        this.ready = true;
        this.ctx.ready();
      }
      if (signal.aborted) break;
      // A run that delivered a whole dump was healthy: start the backoff over.
      if (res.dumped) attempt = 0;
      this.lastError = res.reason;
      const delay = backoffDelay(attempt++, backoff);
      this.restarts++;
      this.ctx.count("restarts");
      log.warn(`drbdsetup events2 ${res.reason}; restarting in ${delay} ms`, { attempt });
      await sleep(delay, signal);
    }
  }

  private emit(rec: Events2Record, state: { first: boolean; dumped: boolean; badRun: number }): void {
    if (state.first) {
      state.first = false;
      if (this.runs > 1) this.ctx.emit(restartMarker(this.ctx.instance));
    }
    state.badRun = 0;
    this.lines++;
    this.ctx.count("lines");
    this.ctx.emit(rec);
    if (rec.verb === "exists" && rec.object === "-" && !state.dumped) {
      state.dumped = true;
      if (!this.ready) {
        this.ready = true;
        this.ctx.ready();
      }
    }
  }

  private onGarbage(reason: string, raw: string, state: { badRun: number }): void {
    this.garbage++;
    this.ctx.count("garbage");
    this.ctx.log.once("garbage", `drbdsetup printed a line that is not events2 (${reason})`, { line: raw.slice(0, 200) });
    if (++state.badRun >= this.cfg["garbage-limit"]) this.killForGarbage?.();
  }

  private async runOnce(): Promise<RunResult> {
    const { ctx, cfg } = this;
    const exe = cfg.path.includes("/") ? cfg.path : Bun.which(cfg.path, { PATH: process.env.PATH ?? "" });
    if (!exe) return { reason: `not found: ${cfg.path} is not in PATH`, dumped: false };
    this.runs++;
    const native = ctx.native?.Events2Reader ? ctx.native : null;
    const state = { first: true, dumped: false, badRun: 0 };
    let pipe: [number, number] | null = null;
    let proc: ReturnType<typeof Bun.spawn>;
    try {
      pipe = native ? native.pipe() : null;
      proc = Bun.spawn([exe, "events2", "--full", "--poll"], {
        stdin: "pipe", stdout: pipe ? pipe[1] : "pipe", stderr: "pipe", env: process.env,
      });
    } catch (e) {
      if (pipe) {
        native!.closeFd(pipe[0]);
        native!.closeFd(pipe[1]);
      }
      return { reason: `cannot start ${exe}: ${e instanceof Error ? e.message : String(e)}`, dumped: false };
    }
    this.proc = proc;
    let garbageKill = false;
    this.killForGarbage = () => {
      garbageKill = true;
      proc.kill();
    };
    const stderr = this.collectStderr(proc);
    // stdout: the native reader thread, or a stream read on the JS thread.
    let eof: Promise<void>;
    if (native && pipe) {
      native.closeFd(pipe[1]);
      const reader = new native.Events2Reader!(pipe[0], cfg["max-line"]);
      // Statistics lines go straight into the model (the core's fast lane), once this run's first
      // record went the full way (the restart marker must precede everything).
      const lane = new Events2Lane();
      eof = new Promise<void>((resolve) => {
        reader.start((bytes, ends, nums, _lost, err) => {
          const lanes = state.first ? null : ctx.events2Fast?.() ?? null;
          const fast: Events2FastApply | null = lanes && ((n, b, s) => lanes.apply(n, b, s) && ((state.badRun = 0), true));
          const taken = decodeEvents2Batch(bytes, ends, nums, ctx.instance, (r) => this.emit(r, state),
            (g) => this.onGarbage(g.reason, g.raw, state), lane, fast);
          if (taken) {
            lanes!.taken(taken);
            this.lines += taken;
            ctx.count("lines", taken);
          }
          if (err !== null) {
            reader.close();
            resolve();
          }
        });
      });
    } else {
      eof = this.readStream(proc.stdout as ReadableStream<Uint8Array>, state);
    }
    const poll = setInterval(() => {
      try {
        const sink = proc.stdin as import("bun").FileSink;
        sink.write("n\n");
        sink.flush();
      } catch {
        // drbdsetup is going away; the exit path reports it.
      }
    }, cfg["statistics-poll-interval"]);
    const onAbort = () => proc.kill();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    try {
      const code = await proc.exited;
      // The last lines may still be in the pipe: let the reader drain it (bounded).
      await Promise.race([eof, sleep(2000)]);
      const err = (await stderr).trim();
      if (ctx.signal.aborted) return { reason: "stopped", dumped: state.dumped };
      if (garbageKill) return { reason: `printed ${cfg["garbage-limit"]} garbage lines in a row`, dumped: state.dumped };
      const how = proc.signalCode ? `was killed by ${proc.signalCode}` : `exited with status ${code}`;
      return { reason: `${how}${err ? `: ${err.split("\n").slice(-3).join(" | ")}` : ""}`, dumped: state.dumped };
    } finally {
      clearInterval(poll);
      ctx.signal.removeEventListener("abort", onAbort);
      this.killForGarbage = null;
      this.proc = null;
    }
  }

  private async collectStderr(proc: ReturnType<typeof Bun.spawn>): Promise<string> {
    // Keep the tail only: drbdsetup's last words say why it stopped.
    let tail = "";
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      tail = (tail + dec.decode(chunk, { stream: true })).slice(-4096);
    }
    return tail;
  }

  private async readStream(stream: ReadableStream<Uint8Array>, state: { first: boolean; dumped: boolean; badRun: number }): Promise<void> {
    // As the native reader: lines split in bytes, the limit counted in bytes.
    const split = new Events2LineSplitter(this.cfg["max-line"], (l) => {
      const t = tokenizeEvents2(l, this.ctx.instance);
      if (!t) return;
      if (t.ok) this.emit(t.rec, state);
      else this.onGarbage(t.reason, t.raw, state);
    }, (head) => this.onGarbage("line too long", head, state));
    for await (const chunk of stream) split.feed(chunk);
    split.finish();
  }

  close(): void {
    this.proc?.kill();
  }

  status(): Record<string, unknown> {
    return {
      pid: this.proc?.pid ?? null, running: this.proc !== null, runs: this.runs, restarts: this.restarts,
      lines: this.lines, garbage: this.garbage, last_error: this.lastError, ready: this.ready,
      reader: this.ctx.native?.Events2Reader ? "native" : "typescript",
    };
  }
}

export default definePlugin({
  kind: "sender",
  name: "drbd",
  embeddedDefault: { order: 40, needs: "drbdsetup" },
  impliedFor: ["events2"],
  reactorOptions: ["statistics-poll-interval"],
  replay: { input: "events2", stream: (src) => replayEvents2(src, "drbd"), help: { order: 30, text: `"drbdsetup events2 --full" output` } },
  description: "DRBD state changes from `drbdsetup events2 --full --poll` (restarted with backoff)",
  schema,
  sample,
  create(config, ctx) {
    return new DrbdSender(config, ctx);
  },
});
