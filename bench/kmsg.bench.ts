// /dev/kmsg record decoding throughput on a generated 1M-record stream: native (kmsgDecode +
// unpacking into records), the native reader thread over a file, and the TypeScript decoder, each
// as a ratio to plain line splitting of the same text in the same run.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nativeAddon } from "../src/native.ts";
import { openKmsgReader } from "../src/kmsg/reader.ts";
import { decodeKmsgRecord, splitKmsgRecords, unpackKmsgBatch } from "../src/kmsg/record.ts";
import { generateStream, nativeKmsg } from "../test/kmsg-fixtures.ts";

const N = 1_000_000;

// Best of two runs after a full GC: the machine is shared, the faster run is the less disturbed.
function time(fn: () => number): { ms: number; n: number } {
  let best = { ms: Infinity, n: 0 };
  for (let i = 0; i < 2; i++) {
    Bun.gc(true);
    const t0 = performance.now();
    const n = fn();
    const ms = performance.now() - t0;
    if (ms < best.ms) best = { ms, n };
  }
  return best;
}

export default async function (): Promise<Record<string, number | string>> {
  const text = generateStream(N, 3);
  const buf = Buffer.from(text);
  const addon = nativeKmsg();

  const lines = time(() => buf.toString("utf8").split("\n").length - 1);
  const nativeRaw = time(() => addon.kmsgDecode(buf).ends.length);
  const nativeFull = time(() => {
    const { bytes, ends, nums } = addon.kmsgDecode(buf);
    let n = 0;
    unpackKmsgBatch(bytes, ends, nums, "kmsg", (d) => void (n += d.record.msg.length > 0 ? 1 : 1));
    return n;
  });
  const ts = time(() => {
    let n = 0;
    for (const rec of splitKmsgRecords(buf.toString("utf8"))) n += decodeKmsgRecord(rec).status === 0 ? 1 : 1;
    return n;
  });

  // The reader thread path (read, decode, TSFN hand-over, unpack) over a regular file.
  const dir = mkdtempSync(join(tmpdir(), "kmsg-bench-"));
  const file = join(dir, "stream.kmsg");
  writeFileSync(file, buf);
  let got = 0;
  const t0 = performance.now();
  const handle = openKmsgReader(nativeAddon(), { path: file, seek: "start", afterSeq: -1, source: "kmsg" }, (b) => void (got += b.length));
  await handle.done;
  const readerMs = performance.now() - t0;
  rmSync(dir, { recursive: true, force: true });

  for (const r of [nativeRaw, nativeFull, ts]) if (r.n !== N) throw new Error(`decoded ${r.n} of ${N} records`);
  if (got !== N) throw new Error(`reader delivered ${got} of ${N} records`);
  const perS = (r: { ms: number }) => Math.round(N / (r.ms / 1000));
  return {
    records: N,
    input_mib: Number((buf.length / 2 ** 20).toFixed(1)),
    line_split_lines_per_s: Math.round(lines.n / (lines.ms / 1000)),
    native_decode_records_per_s: perS(nativeRaw),
    native_decode_unpack_records_per_s: perS(nativeFull),
    native_reader_thread_records_per_s: perS({ ms: readerMs }),
    ts_decode_records_per_s: perS(ts),
    "ratio native_decode / line_split": Number((lines.ms / nativeRaw.ms).toFixed(3)),
    "ratio native_decode+unpack / line_split": Number((lines.ms / nativeFull.ms).toFixed(3)),
    "ratio native_reader_thread / line_split": Number((lines.ms / readerMs).toFixed(3)),
    "ratio ts_decode / line_split": Number((lines.ms / ts.ms).toFixed(3)),
    "ratio native_decode+unpack / ts_decode": Number((ts.ms / nativeFull.ms).toFixed(3)),
    rss_mib: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
}
