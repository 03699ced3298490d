// Reads /dev/kmsg (or a recorded file, for tests) with the addon's KmsgReader thread, or, when the
// addon is missing, with a TypeScript loop over a nonblocking fd (polls every 50 ms when idle). Both
// hand over decoded records in batches, with seq gaps (ring overruns) in KmsgDecoded.lostBefore.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import type { NativeAddon, BatchCallback } from "../native.ts";
import { decodeKmsgRecord, KmsgStatus, KmsgTextSplitter, unpackKmsgBatch, type KmsgDecoded } from "./record.ts";

export interface KmsgReaderOptions {
  path: string;
  /** start: the oldest record in the ring; end: only records written from now on. */
  seek: "start" | "end";
  /** >= 0: skip records with seq <= afterSeq (resume after a cursor); a gap after it is lost. */
  afterSeq: number;
  /** Tests only: sleep this long per batch to provoke a ring overrun. */
  slowMs?: number;
  source: string;
}

export interface KmsgReaderHandle {
  readonly kind: "native" | "typescript";
  /** Resolves when the source ends (EOF of a file, a read error) with null or the error. */
  done: Promise<string | null>;
  close(): void;
}

type Sink = (records: KmsgDecoded[]) => void;

export function hasNativeKmsg(addon: NativeAddon | null): boolean {
  return typeof addon?.KmsgReader === "function";
}

export function openKmsgReader(addon: NativeAddon | null, opts: KmsgReaderOptions, sink: Sink): KmsgReaderHandle {
  return addon && hasNativeKmsg(addon) ? openNative(addon, opts, sink) : openTs(opts, sink);
}

function openNative(addon: NativeAddon, opts: KmsgReaderOptions, sink: Sink): KmsgReaderHandle {
  const reader = new addon.KmsgReader({
    path: opts.path, seek: opts.seek, afterSeq: opts.afterSeq, slowMs: opts.slowMs ?? 0,
  });
  let finish: (err: string | null) => void = () => {};
  const done = new Promise<string | null>((resolve) => (finish = resolve));
  const cb: BatchCallback = (bytes, ends, nums, _lost, error) => {
    if (ends.length > 0) {
      const out: KmsgDecoded[] = [];
      unpackKmsgBatch(bytes, ends, nums, opts.source, (d) => out.push(d));
      sink(out);
    }
    if (error !== null) finish(error === "eof" ? null : error);
  };
  reader.start(cb);
  return {
    kind: "native",
    done,
    close() {
      reader.close();
      finish(null);
    },
  };
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException | undefined)?.code ?? "";
}

// The TypeScript fallback. Node's fs has no lseek: "end" reads and drops what the ring holds.
function openTs(opts: KmsgReaderOptions, sink: Sink): KmsgReaderHandle {
  const fd = openSync(opts.path, constants.O_RDONLY | constants.O_NONBLOCK);
  const device = fstatSync(fd).isCharacterDevice();
  let buf = Buffer.alloc(16 * 1024);
  let expected = opts.afterSeq >= 0 ? opts.afterSeq + 1 : -1;
  let skipping = opts.seek === "end";
  const split = new KmsgTextSplitter();
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finish: (err: string | null) => void = () => {};
  const done = new Promise<string | null>((resolve) => (finish = resolve));

  const take = (text: string, out: KmsgDecoded[]) => {
    const d = decodeKmsgRecord(text, opts.source);
    if (d.status === KmsgStatus.ok) {
      const seq = d.record.seq;
      if (opts.afterSeq >= 0 && seq <= opts.afterSeq) return;
      if (expected >= 0 && seq > expected) d.lostBefore = seq - expected;
      expected = seq + 1;
    }
    if (!skipping) out.push(d);
  };
  const end = (err: string | null) => {
    if (closed) return;
    closed = true;
    closeSync(fd);
    finish(err);
  };
  const pump = () => {
    timer = undefined;
    if (closed) return;
    const out: KmsgDecoded[] = [];
    let idle = false;
    let error: string | null | undefined;
    const max = opts.slowMs ? 8 : 512;
    while (out.length < max && !idle && error === undefined) {
      try {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) {
          if (!device) for (const rec of split.finish()) take(rec, out);
          error = device ? "eof" : null;
        } else if (device) take(buf.toString("utf8", 0, n), out);
        else for (const rec of split.feed(buf.toString("latin1", 0, n))) take(Buffer.from(rec, "latin1").toString("utf8"), out);
      } catch (e) {
        const code = errCode(e);
        if (code === "EAGAIN") idle = true;
        else if (code === "EPIPE" || code === "EINTR") continue;
        else if (code === "EINVAL" && buf.length < 16 << 20) buf = Buffer.alloc(buf.length * 2);
        else error = `read ${opts.path}: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    if (idle) skipping = false;
    if (out.length > 0) sink(out);
    if (error !== undefined) return end(error);
    timer = setTimeout(pump, idle ? 50 : (opts.slowMs ?? 0));
  };
  // "end" takes effect now, before the caller reports ready(): a record written after that must be
  // read, not dropped with the backlog by a first read that runs later. Skipping hands nothing on.
  if (skipping) pump();
  else timer = setTimeout(pump, 0);
  return {
    kind: "typescript",
    done,
    close() {
      if (timer) clearTimeout(timer);
      end(null);
    },
  };
}
