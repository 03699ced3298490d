// Real kernel, real lines: a loop device whose backing file lives on an ext4 that has been shut
// down fails every request with EIO, and this kernel logs them through blk_print_req_error and
// buffer_io_error. The block parser must turn exactly those records into BLK_IO_ERROR events.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import plugin from "./index.ts";
import { makeParser, readKmsgFixture, runParser } from "../../../test/helpers/parser-fixtures.ts";
import { KmsgTap } from "../../../test/helpers/kmsg-live.ts";
import type { EventDraft } from "../../../src/plugin-api.ts";
import { READ_ERRNO_BLOCKS, errnoLoop, freshRatelimitWindow, sh, type ErrnoLoop } from "./errno-loop.ts";

/** The message part of a /dev/kmsg record line ("pri,seq,ts,flags;msg"). */
const msgOf = (raw: string | undefined) => (raw ?? "").slice((raw ?? "").indexOf(";") + 1);

/** Runs `act` in a fresh ratelimit window and parses the kernel records it caused that `keep` selects. */
async function kernelEvents(act: () => void, keep: (msg: string) => boolean): Promise<{ lines: string[]; events: EventDraft[] }> {
  await freshRatelimitWindow();
  const tap = new KmsgTap();
  try {
    act();
    // Only this test's device: other tests on this machine log at the same time.
    const recs = readKmsgFixture(tap.drain()).filter((r) => r.facility === 0 && keep(r.msg));
    const { parser } = await makeParser(plugin);
    return { lines: recs.map((r) => r.msg), events: runParser(parser, recs) };
  } finally {
    tap.close();
  }
}

const dir = mkdtempSync("/tmp/storeventd-blk-kernel-");
const undo: (() => void)[] = [];
let loop = "";
let events: EventDraft[] = [];
let kernelLines: string[] = [];

beforeAll(async () => {
  sh(["truncate", "-s", "64M", join(dir, "outer.img")]);
  sh(["mkfs.ext4", "-q", "-F", join(dir, "outer.img")]);
  const outer = sh(["losetup", "-f", "--show", join(dir, "outer.img")]);
  undo.push(() => sh(["losetup", "-d", outer], true));
  sh(["mkdir", join(dir, "mnt")]);
  sh(["mount", outer, join(dir, "mnt")]);
  undo.push(() => sh(["umount", "-l", join(dir, "mnt")], true));
  sh(["dd", "if=/dev/urandom", `of=${join(dir, "mnt", "inner.img")}`, "bs=1M", "count=4", "status=none"]);
  sh(["sync"]);
  const inner = sh(["losetup", "-f", "--show", join(dir, "mnt", "inner.img")]);
  undo.push(() => sh(["losetup", "-d", inner], true));
  loop = inner.replace("/dev/", "");

  ({ lines: kernelLines, events } = await kernelEvents(() => {
    sh(["xfs_io", "-x", "-c", "shutdown", join(dir, "mnt")]);
    sh(["dd", `if=${inner}`, "of=/dev/null", "bs=4096", "count=1", "iflag=direct"], true);
    sh(["dd", "if=/dev/zero", `of=${inner}`, "bs=4096", "count=1", "seek=3", "oflag=direct"], true);
    sh(["dd", `if=${inner}`, "of=/dev/null", "bs=4096", "count=1", "skip=100"], true);
  }, (msg) => new RegExp(`\\b${loop}\\b`).test(msg)));
}, 20_000);

afterAll(() => {
  for (const f of undo.reverse()) f();
  rmSync(dir, { recursive: true, force: true });
});

test("the kernel's own I/O error lines for a failing loop device become BLK_IO_ERROR events", () => {
  expect(kernelLines.length).toBeGreaterThanOrEqual(3);
  const ioErrors = kernelLines.filter((l) => l.includes(" error, dev "));
  // Every kernel request error line for our device is an event, with the kernel's numbers.
  const fromReq = events.filter((e) => e.extension?.status === "I/O");
  expect(fromReq.map((e) => msgOf(e.raw))).toEqual(ioErrors); // raw is the record as received
  expect(fromReq.every((e) => e.dev_name === loop && e.event_type === "BLK_IO_ERROR" && e.severity === "error")).toBe(true);
  expect(fromReq.find((e) => e.extension?.op_name === "READ" && e.extension?.sector === 0)).toBeDefined();
  expect(fromReq.find((e) => e.extension?.op_name === "WRITE" && e.extension?.sector === 24)).toBeDefined();
});

test("the buffered read's 'Buffer I/O error' line becomes a BLK_IO_ERROR at logical block 100", () => {
  const buffered = events.filter((e) => e.extension?.status === "buffer I/O");
  expect(buffered.map((e) => [e.dev_name, e.extension?.logical_block, e.extension?.detail])).toEqual([[loop, 100, "async page read"]]);
});

// Every block status the kernel names, from the real kernel: a loop device over a FUSE file that
// answers reads of block N with errno N (errno-fs.py) maps them through errno_to_blk_status.
describe("a loop device over errno-fs (FUSE)", () => {
  let loopDev: ErrnoLoop | undefined;
  let got: EventDraft[] = [];
  let lines: string[] = [];
  let dev = "";

  beforeAll(async () => {
    loopDev = await errnoLoop();
    dev = loopDev.dev;
    ({ lines, events: got } = await kernelEvents(() => {
      for (let block = 0; block < READ_ERRNO_BLOCKS; block++) loopDev!.readBlock(block);
      loopDev!.writeBlock(8);
    }, (msg) => msg.includes(`, dev ${dev}, `)));
  }, 20_000);

  afterAll(() => loopDev?.cleanup());

  test("each errno becomes the kernel's status line and the matching BLK event", () => {
    expect(got.map((e) => msgOf(e.raw))).toEqual(lines);
    expect(got.map((e) => [e.event_type, e.extension?.status, e.extension?.op_name, e.extension?.sector])).toEqual([
      ["BLK_CRITICAL_MEDIUM_ERROR", "critical medium", "READ", 0], // ENODATA
      ["BLK_IO_ERROR", "timeout", "READ", 8], // ETIMEDOUT
      ["BLK_IO_ERROR", "critical target", "READ", 16], // EREMOTEIO
      ["BLK_IO_ERROR", "recoverable transport", "READ", 24], // ENOLINK
      ["BLK_IO_ERROR", "protection", "READ", 32], // EILSEQ
      ["BLK_IO_ERROR", "I/O", "READ", 40], // EIO
      ["BLK_IO_ERROR", "critical space allocation", "WRITE", 64], // ENOSPC on write
    ]);
    expect(got.every((e) => e.dev_name === dev)).toBe(true);
    // Severity table (plugins/parser/README.md): a recoverable transport error is retried elsewhere (warn).
    expect(got.map((e) => e.severity)).toEqual(got.map((e) => (e.extension?.status === "recoverable transport" ? "warn" : "error")));
  });
});
