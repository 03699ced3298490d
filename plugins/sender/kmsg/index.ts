// The kernel log sender: /dev/kmsg records -> parsers, with a persistent cursor (seq + boot id),
// ring-overrun reports (KMSG_OVERRUN) and kernel timestamps mapped to wall-clock time.
import * as v from "valibot";
import { closeSync, constants, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { definePlugin, Duration, type EventDraft, type NativeAddon, type RawRecord, type Sender, type SenderContext } from "../../../src/plugin-api.ts";
import { cursorOptions, openKmsgReader, readStateFile, StateFileWriter, writeStateFile, type KmsgReaderHandle } from "../../../src/plugin-kit/readers.ts";
import { cutKmsg, decodeKmsgSlices, KMSG_STATUS_NAMES, KmsgStatus, type KmsgDecoded } from "../../../src/plugin-kit/kernel.ts";
import { nowUs } from "../../../src/plugin-kit/event.ts";
import sample from "./sample.toml" with { type: "text" };
import { EVENTS } from "./events.ts";

export const schema = v.strictObject({
  path: v.pipe(v.optional(v.pipe(v.string(), v.minLength(1)), "/dev/kmsg"), v.description(
    "The kernel log device. A regular file of recorded records is read once to its end (tests).",
  )),
  from: v.pipe(v.optional(v.picklist(["start", "cursor", "end"]), "cursor"), v.description(
    '"cursor": resume after the last record handled in this boot, or from the ring start after a reboot; ' +
      '"start": the oldest record in the ring; "end": only records written from now on.',
  )),
  accept_user_records: v.pipe(v.optional(v.boolean(), false), v.description(
    "Also parse records of user facilities (written to /dev/kmsg by programs). Off: only kernel records " +
      "(facility 0) reach the parsers and user records are counted as user_skipped (they could forge events).",
  )),
  ...cursorOptions("kmsg.cursor", "the cursor (last seq and boot id)"),
});
export type KmsgSenderConfig = v.InferOutput<typeof schema>;

export interface KmsgCursor {
  boot_id: string;
  seq: number;
}

const BOOT_ID = "/proc/sys/kernel/random/boot_id";

export function readBootId(): string {
  try {
    return readFileSync(BOOT_ID, "utf8").trim();
  } catch {
    return "";
  }
}

export function readCursor(path: string): KmsgCursor | undefined {
  const c = readStateFile(path) as Partial<KmsgCursor> | undefined;
  return typeof c?.boot_id === "string" && Number.isSafeInteger(c.seq) ? { boot_id: c.boot_id, seq: c.seq! } : undefined;
}

export function writeCursor(path: string, c: KmsgCursor): void {
  writeStateFile(path, c);
}

/**
 * Wall clock minus the kernel's printk clock, in µs. printk stamps records with local_clock(),
 * which runs like CLOCK_MONOTONIC (both stop during suspend), so the offset is CLOCK_REALTIME -
 * CLOCK_MONOTONIC, read from the addon each batch (it follows clock steps and resumes). Without
 * the addon: CLOCK_MONOTONIC from /proc/timer_list ("now at N nsecs" is ktime_get(); root only);
 * failing that /proc/uptime, which is CLOCK_BOOTTIME (off by the time spent in suspend, 10 ms
 * resolution) - printkClockSource() says which.
 */
export function printkClockOffsetUs(addon: NativeAddon | null): number {
  if (typeof addon?.kmsgClock === "function") {
    const c = addon.kmsgClock();
    return c.realtime_us - c.monotonic_us;
  }
  // Off by up to half the time the read took: when the process was preempted during it (a loaded
  // machine), read again and keep the narrowest of a few.
  let best: { offset: number; width: number } | undefined;
  for (let i = 0; i < 4 && !(best && best.width < 2_000); i++) {
    const before = nowUs();
    const mono = timerListMonotonicUs();
    const after = nowUs();
    if (mono === undefined) break;
    if (!best || after - before < best.width) best = { offset: Math.round((before + after) / 2 - mono), width: after - before };
  }
  if (best) return best.offset;
  const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  return Date.now() * 1000 - Math.round(uptime * 1e6);
}

/** Which clock printkClockOffsetUs() reads (for `status`). */
export function printkClockSource(addon: NativeAddon | null): string {
  if (typeof addon?.kmsgClock === "function") return "CLOCK_MONOTONIC (addon)";
  if (timerListMonotonicUs() !== undefined) return "CLOCK_MONOTONIC (/proc/timer_list)";
  return "CLOCK_BOOTTIME (/proc/uptime): times are late by the time spent in suspend since boot";
}

const timerListHead = Buffer.alloc(256);

/** CLOCK_MONOTONIC in µs from the head of /proc/timer_list, or undefined (not root, no file). */
export function timerListMonotonicUs(): number | undefined {
  try {
    const fd = openSync("/proc/timer_list", constants.O_RDONLY);
    try {
      const n = readSync(fd, timerListHead, 0, timerListHead.length, null);
      const m = /^now at (\d+) nsecs$/m.exec(timerListHead.toString("latin1", 0, n));
      return m ? Number(m[1]) / 1000 : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** Tests only: knobs the configuration does not offer. */
export interface KmsgTestHooks {
  /** Sleep this long per batch in the reader (provokes a ring overrun). */
  slowMs?: number;
  /** Force the TypeScript reader even when the addon is there. */
  noNative?: boolean;
}

export function createKmsgSender(config: KmsgSenderConfig, ctx: SenderContext, hooks: KmsgTestHooks = {}): Sender {
  // A missing or unreadable device (ENOENT, EACCES, EPERM under dmesg_restrict) is a config error.
  closeSync(openSync(config.path, constants.O_RDONLY | constants.O_NONBLOCK));
  const cursorFile = config.cursor_file || join(ctx.stateDir, "kmsg.cursor");
  const bootId = readBootId();
  const stats = { records: 0, forwarded: 0, user_skipped: 0, bad: 0, overruns: 0, lost: 0 };
  const native = hooks.noNative ? null : ctx.native;
  let cursorSeq = -1;
  let savedSeq = -1;
  let reader: KmsgReaderHandle | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let started = "";

  // The cursor passes only records whose events reached the router: never one a parser still holds
  // (a crash then re-reads the held report's records instead of losing them).
  // Written off the event loop; a failed write is retried with the next save.
  const cursorWriter = new StateFileWriter(cursorFile, (value, error) => {
    if (!error) return;
    if ((value as KmsgCursor).seq === savedSeq) savedSeq = -1;
    ctx.count("cursor_errors");
    ctx.log.once("cursor_write", `cannot write the cursor ${cursorFile}: ${error.message}`);
  });
  const saveCursor = () => {
    timer = undefined;
    const held = ctx.oldestHeld?.();
    const seq = held !== undefined ? Math.min(cursorSeq, held - 1) : cursorSeq;
    if (held !== undefined && seq < cursorSeq) timer = setTimeout(saveCursor, config.cursor_interval);
    if (seq < 0 || seq === savedSeq) return;
    cursorWriter.save({ boot_id: bootId, seq } satisfies KmsgCursor);
    savedSeq = seq;
  };

  const overrun = (d: KmsgDecoded, timeUs: number) => {
    const lost = d.lostBefore;
    const first = d.record.seq - lost;
    const last = d.record.seq - 1;
    stats.overruns++;
    stats.lost += lost;
    ctx.count("overruns");
    ctx.count("lost", lost);
    ctx.emitEvent({
      severity: "warn", system: "daemon", event_type: "KMSG_OVERRUN",
      msg: `kernel log ring overrun: ${lost} record${lost === 1 ? "" : "s"} lost (seq ${first}..${last})`,
      extension: { lost, first_lost_seq: first, last_lost_seq: last },
      time_us: timeUs, source: ctx.instance, raw: "",
    });
  };

  const onRecords = (batch: KmsgDecoded[]) => {
    const offset = printkClockOffsetUs(native);
    for (const d of batch) {
      const rec = d.record;
      stats.records++;
      ctx.count("records");
      if (d.status !== KmsgStatus.ok) {
        stats.bad++;
        ctx.count("bad_records");
        const kind = KMSG_STATUS_NAMES[d.status] ?? "bad";
        ctx.log.once(`bad_record_${kind}`, `skipping a malformed /dev/kmsg record (${kind}): ${rec.raw.slice(0, 200)}`);
        continue;
      }
      rec.time_us = Math.round(rec.ts_us + offset);
      if (d.lostBefore > 0) overrun(d, rec.time_us);
      if (d.badProps > 0) {
        ctx.count("bad_props", d.badProps);
        ctx.log.once("bad_props", `skipping continuation lines that are not " KEY=value" in seq ${rec.seq}`);
      }
      if (rec.facility !== 0 && !config.accept_user_records) {
        stats.user_skipped++;
        ctx.count("user_skipped");
        cursorSeq = rec.seq;
        continue;
      }
      stats.forwarded++;
      ctx.count("forwarded");
      ctx.emit(rec); // synchronous: parsed, folded and queued at the receivers when it returns
      cursorSeq = rec.seq;
    }
    if (cursorSeq !== savedSeq) timer ??= setTimeout(saveCursor, config.cursor_interval);
  };

  const stop = () => {
    reader?.close();
    clearTimeout(timer);
    saveCursor();
    cursorWriter.flushSync(); // stopping: the last cursor now, not after the process is gone
    clearTimeout(timer);
  };

  return {
    async run() {
      let afterSeq = -1;
      let seek: "start" | "end" = config.from === "end" ? "end" : "start";
      if (config.from === "cursor") {
        const c = readCursor(cursorFile);
        if (c && c.boot_id === bootId) afterSeq = c.seq;
        started = c ? (c.boot_id === bootId ? `after seq ${c.seq}` : "ring start (new boot)") : "ring start (no cursor)";
      } else started = config.from === "end" ? "end" : "ring start";
      seek = afterSeq >= 0 ? "start" : seek;
      reader = openKmsgReader(native, { path: config.path, seek, afterSeq, slowMs: hooks.slowMs, source: ctx.instance }, onRecords);
      ctx.log.info(`reading ${config.path} from ${started} (${reader.kind} reader)`);
      ctx.ready();
      const aborted = new Promise<null>((resolve) => {
        if (ctx.signal.aborted) resolve(null);
        ctx.signal.addEventListener("abort", () => resolve(null), { once: true });
      });
      const err = await Promise.race([reader.done, aborted]);
      stop();
      if (err) throw new Error(err);
    },
    close: stop,
    status: () => ({
      path: config.path, reader: reader?.kind ?? "not started", started, ...stats, cursor_seq: cursorSeq,
      cursor_file: cursorFile, boot_id: bootId, clock: printkClockSource(native),
    }),
  };
}

const NO_DRAFTS: readonly EventDraft[] = Object.freeze([]);

/** `replay --kmsg`: a recorded kernel log, streamed in pieces; the sender itself adds no events. */
function* replayKmsg(piece: Uint8Array): Iterable<{ rec: RawRecord; drafts: EventDraft[] }> {
  for (const recs of decodeKmsgSlices(piece, "kmsg")) {
    for (let i = 0; i < recs.length; i++) yield { rec: recs[i]!, drafts: NO_DRAFTS as EventDraft[] };
  }
}

export default definePlugin({
  kind: "sender",
  name: "kmsg",
  embeddedDefault: { order: 10 },
  emits: EVENTS,
  description: "Reads the kernel log (/dev/kmsg) with a cursor that survives restarts; reports ring overruns.",
  schema,
  sample,
  create: (config, ctx) => createKmsgSender(config, ctx),
  foldRepeats: true,
  replay: {
    input: "kmsg", cut: cutKmsg, decode: replayKmsg,
    help: {
      order: 10,
      text: `a kernel log: raw /dev/kmsg records ("6,1234,5678,-;msg" with " KEY=value"
continuation lines), dmesg lines ("[   12.345678] msg", "<6>[...]") or
journal/syslog lines ("Nov 26 00:30:36 host kernel: msg")`,
    },
  },
});
