// replay's input, output and progress in constant memory: the input is read in pieces of 1 MiB
// (cut where a record may start), events are written synchronously as they come, and a progress
// line on a terminal stderr shows how far a large file is (as `dd status=progress` or `pv` do).
import { closeSync, fstatSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import type { Cut } from "../util/cut.ts";
export { cutKmsg, cutLines, slices, type Cut } from "../util/cut.ts";

export interface Input {
  /** Total bytes when known (a regular file), else 0. */
  size: number;
  /** Bytes read so far. */
  readonly done: number;
  fd: number;
  /** Pieces of whole records; each view is valid until the next one is asked for. */
  pieces(cut: Cut): Generator<Uint8Array>;
  /** Hands the fd over (a native reader reads it; `done` follows its file position). */
  takeFd(): number;
}

export function openInput(path: string, pieceBytes = 1 << 20): Input {
  const fd = path === "-" ? 0 : openSync(path, "r");
  const st = fstatSync(fd);
  let done = 0;
  let taken = false;
  const input: Input = {
    size: st.isFile() ? st.size : 0,
    get done() {
      return taken ? fdPosition(fd) : done;
    },
    fd,
    takeFd() {
      taken = true;
      return fd;
    },
    *pieces(cut) {
      let buf = new Uint8Array(pieceBytes);
      let len = 0;
      try {
        for (;;) {
          if (len === buf.length) {
            // One record longer than a piece: grow for it (rare: records are lines).
            const bigger = new Uint8Array(buf.length * 2);
            bigger.set(buf);
            buf = bigger;
          }
          const n = readSync(fd, buf, len, buf.length - len, null);
          len += n;
          const end = n === 0 ? len : cut(buf, len);
          if (end > 0) {
            done += end;
            yield buf.subarray(0, end);
            buf.copyWithin(0, end, len);
            len -= end;
          }
          if (n === 0) return;
        }
      } finally {
        if (fd !== 0) closeSync(fd);
      }
    },
  };
  return input;
}

/** The file position of our fd (its reader thread's progress), from /proc/self/fdinfo. */
function fdPosition(fd: number): number {
  try {
    return Number(/^pos:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Writes all of `text` to fd, waiting out a non-blocking pipe that is full. */
export function writeAll(fd: number, text: string): void {
  let b = Buffer.from(text);
  while (b.length) {
    try {
      b = b.subarray(writeSync(fd, b));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Bun.sleepSync(1);
    }
  }
}

export function peakRssMib(): number {
  try {
    const m = /^VmHWM:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

const mib = (n: number) => (n / 1048576).toFixed(1);

function clock(secs: number): string {
  const s = Math.max(0, Math.round(secs));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, "0");
  return `${h ? `${h}:` : ""}${mm}:${String(s % 60).padStart(2, "0")}`;
}

/** The progress line: shown on a terminal only, at most every `everyMs`; `end()` clears it. */
export class Progress {
  private last = -Infinity;
  private shown = false;
  readonly t0 = performance.now();

  constructor(
    private input: Pick<Input, "size" | "done">, private on: boolean, private everyMs = 250, private write = (s: string) => writeAll(2, s),
  ) {}

  tick(records: number): void {
    if (!this.on) return;
    const now = performance.now();
    if (now - this.last < this.everyMs) return;
    this.last = now;
    const secs = (now - this.t0) / 1000;
    const rate = secs > 0 ? records / secs : 0;
    const { done, size } = this.input;
    let line = `replay: ${mib(done)}${size ? ` / ${mib(size)}` : ""} MiB, ${records.toLocaleString("en-US")} records, ${Math.round(rate).toLocaleString("en-US")} records/s`;
    if (size && done > 0) line += `, ${Math.floor((100 * done) / size)}%, ETA ${clock(((size - done) * secs) / done)}`;
    this.write(`\r${line}\x1b[K`);
    this.shown = true;
  }

  end(): void {
    if (this.shown) this.write("\r\x1b[K");
  }

  seconds(): number {
    return (performance.now() - this.t0) / 1000;
  }
}
