// The compiled daemon on the real /dev/kmsg with a file receiver writing into a FIFO and a
// `monitor --json` follower: send() writes one kernel-log record and resolves with the time until
// its event reached each of them. Used by bench/latency.bench.ts and test/latency.test.ts.
import { closeSync, constants, createReadStream, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { BIN, startDaemon } from "./bin.ts";
import { acquireSysctls } from "./sysctl.ts";
import { nativeAddon } from "../../src/native.ts";

export interface Arrival {
  file: number;
  monitor: number;
}

/** One record's CLOCK_MONOTONIC µs: written, and seen at the file and the follower (NaN: never). */
export interface Stamps {
  id: number;
  written: number;
  file: number;
  monitor: number;
}


/** Lines of a byte stream, one callback each. */
function onLines(push: (line: string) => void): (chunk: Uint8Array | string) => void {
  let rest = "";
  const dec = new TextDecoder();
  return (chunk) => {
    rest += typeof chunk === "string" ? chunk : dec.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      push(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  };
}

export class LatencyRig {
  private waiters = new Map<number, { t0: number; file?: number; monitor?: number; done: (a: Arrival) => void }>();
  /** Every send() in order, in CLOCK_MONOTONIC µs (comparable with the daemon's stage trace). */
  readonly stamps: Stamps[] = [];
  private monoBase = NaN;
  private kmsgFd = -1;
  private fifoFd = -1;
  private fifoPath = "";
  private fifoStream: ReturnType<typeof createReadStream> | undefined;
  private releaseSysctls: (() => void) | undefined;
  private daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
  private monitor: ReturnType<typeof Bun.spawn> | undefined;
  readonly tag = `lat${process.pid % 100000}`;
  private next = 0;

  /** env: extra daemon environment (STOREVENTD_STAGE_TRACE, BUN_JSC_* options). */
  constructor(private dir: string, private env: Record<string, string> = {}) {}

  /** CLOCK_MONOTONIC in µs: the addon's clock once, then Bun's monotonic performance.now(). */
  mono(): number {
    if (Number.isNaN(this.monoBase)) {
      const clock = nativeAddon()?.kmsgClock();
      if (!clock) throw new Error("the native addon is not loaded: no CLOCK_MONOTONIC");
      this.monoBase = clock.monotonic_us - performance.now() * 1000;
    }
    return this.monoBase + performance.now() * 1000;
  }

  async start(): Promise<void> {
    // The per-open-file ratelimit of /dev/kmsg writes (10 per 5 s) would drop records: off while we run.
    this.releaseSysctls = acquireSysctls({ "kernel.printk_devkmsg": "on" });
    const fifo = (this.fifoPath = join(this.dir, "events.fifo"));
    const mk = Bun.spawnSync(["mkfifo", fifo]);
    if (mk.exitCode !== 0) throw new Error(`mkfifo: ${mk.stderr.toString()}`);
    this.fifoFd = openSync(fifo, constants.O_RDWR); // never blocks, never sees EOF
    this.fifoStream = createReadStream("", { fd: this.fifoFd, highWaterMark: 1 << 16 });
    this.fifoStream.on("data", onLines((l) => this.arrived(l, "file")));
    const sock = join(this.dir, "control.sock");
    const cfg = join(this.dir, "latency.toml");
    writeFileSync(cfg, `[main]
state_dir = "${this.dir}/state"
control_socket = "${sock}"
[kmsg]
type = "sender"
from = "end"
accept_user_records = true
[block]
type = "parser"
[fifo]
type = "receiver"
plugin = "file"
path = "${fifo}"
fsync = "never"
`);
    this.daemon = await startDaemon(["run", "-c", cfg], (e) => /kmsg: reading \/dev\/kmsg/.test(e), this.env);
    this.monitor = Bun.spawn([BIN, "monitor", "--json", "--socket", sock], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    void (async () => {
      const push = onLines((l) => this.arrived(l, "monitor"));
      for await (const c of this.monitor!.stdout as ReadableStream<Uint8Array>) push(c);
    })();
    this.kmsgFd = openSync("/dev/kmsg", constants.O_WRONLY);
    // The follower connects and the reader seeks asynchronously: wait until a probe reaches both.
    for (let i = 0; ; i++) {
      const a = await this.send(1000);
      if (Number.isFinite(a.file) && Number.isFinite(a.monitor)) break;
      if (i > 20) throw new Error(`the rig never saw a probe event; daemon stderr:\n${this.daemon.stderr()}`);
    }
  }

  private arrived(line: string, where: "file" | "monitor"): void {
    const at = performance.now();
    if (!line.includes(this.tag)) return;
    let e: { dev_name?: string; raw?: string };
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    const m = /logical block (\d+),/.exec(e.raw ?? "");
    const w = m && e.dev_name === this.tag ? this.waiters.get(Number(m[1])) : undefined;
    if (!w || w[where] !== undefined) return;
    w[where] = at - w.t0;
    const st = this.stamps[Number(m![1])];
    if (st) st[where] = this.monoBase + at * 1000;
    if (w.file !== undefined && w.monitor !== undefined) w.done({ file: w.file, monitor: w.monitor });
  }

  /** One kernel-log record; resolves with ms until its event reached the file and the follower (Infinity if not within timeoutMs). */
  send(timeoutMs = 5000): Promise<Arrival> {
    const id = this.next++;
    return new Promise<Arrival>((resolve) => {
      const timer = setTimeout(() => {
        const w = this.waiters.get(id)!;
        this.waiters.delete(id);
        resolve({ file: w.file ?? Infinity, monitor: w.monitor ?? Infinity });
      }, timeoutMs);
      const done = (a: Arrival) => {
        clearTimeout(timer);
        this.waiters.delete(id);
        resolve(a);
      };
      const line = `<3>Buffer I/O error on dev ${this.tag}, logical block ${id}, async page read\n`;
      const w = { t0: performance.now(), done };
      this.stamps[id] = { id, written: this.mono(), file: NaN, monitor: NaN };
      w.t0 = performance.now();
      this.waiters.set(id, w);
      writeSync(this.kmsgFd, line);
    });
  }

  /** What the daemon wrote to stderr so far (its log; BUN_JSC_logGC output). */
  daemonStderr(): string {
    return this.daemon?.stderr() ?? "";
  }

  async stop(): Promise<void> {
    this.releaseSysctls?.(); // first: nothing below may keep it changed
    this.monitor?.kill("SIGTERM");
    if (this.daemon) {
      this.daemon.proc.kill("SIGTERM");
      await this.daemon.proc.exited;
    }
    if (this.kmsgFd >= 0) closeSync(this.kmsgFd);
    // The stream owns the FIFO's fd, and its read blocks in a thread: wake it with a byte, then close.
    if (this.fifoStream) {
      this.fifoStream.destroy();
      const w = openSync(this.fifoPath, constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(w, "\n");
      closeSync(w);
    }
  }
}

/** p50, p99 and max of ms values (Infinity counts as lost). */
export function percentiles(ms: number[]): { p50: number; p99: number; max: number; lost: number } {
  const ok = ms.filter(Number.isFinite).sort((a, b) => a - b);
  const at = (q: number) => ok[Math.min(ok.length - 1, Math.floor(q * (ok.length - 1)))] ?? NaN;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { p50: r(at(0.5)), p99: r(at(0.99)), max: r(ok[ok.length - 1] ?? NaN), lost: ms.length - ok.length };
}
