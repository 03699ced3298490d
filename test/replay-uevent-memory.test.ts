// `storeventd replay --uevent` streams its input (compiled binary): the peak RSS of a 600k-uevent
// raw capture stays within a fixed bound of the peak of a 100k one, and both give every uevent.
// The whole capture used to be read into memory first: 1M uevents (186 MB) peaked at 997 MB.
// Not a timing test.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replaySummary } from "./helpers/bin.ts";

const dir = mkdtempSync(join(tmpdir(), "replay-uevent-mem-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Raw netlink uevents (NUL-separated, as the kernel sends them): loop devices added, changed, removed. */
function writeCapture(file: string, n: number): void {
  const actions = ["add", "change", "change", "remove"];
  const fd = openSync(file, "w");
  let chunk = "";
  for (let i = 0; i < n; i++) {
    const a = actions[i % actions.length]!;
    const dev = `/devices/virtual/block/loop${(i >> 2) % 256}`;
    chunk += `${a}@${dev}\0ACTION=${a}\0DEVPATH=${dev}\0SUBSYSTEM=block\0MAJOR=7\0MINOR=${(i >> 2) % 256}\0` +
      `DEVNAME=loop${(i >> 2) % 256}\0DEVTYPE=disk\0DISKSEQ=${i >> 2}\0SEQNUM=${i + 1}\0`;
    if (chunk.length > 1 << 20) (writeSync(fd, chunk), (chunk = ""));
  }
  writeSync(fd, chunk);
  closeSync(fd);
}

async function replay(file: string) {
  const s = await replaySummary(["--uevent", file, "--json"]);
  expect(s.code).toBe(0);
  expect(s.summary).toBe(true);
  return s;
}

describe("storeventd replay --uevent memory (compiled binary)", () => {
  test("600k uevents peak within 24 MiB of 100k; every uevent is read, each gives its event", async () => {
    const small = join(dir, "100k.uevent");
    const large = join(dir, "600k.uevent");
    writeCapture(small, 100_000);
    writeCapture(large, 600_000);
    const a = await replay(small);
    const b = await replay(large);
    console.log(`replay --uevent: 100k -> ${a.peakMib} MiB, 600k -> ${b.peakMib} MiB`);
    expect(a.records).toBe(100_000);
    expect(b.records).toBe(600_000);
    // add, change, change, remove per device: DEVICE_ADDED, 2x DEVICE_CHANGED, DEVICE_REMOVED.
    expect(b.events).toBe(600_000);
    expect(b.peakMib - a.peakMib).toBeLessThan(24);
  }, 180_000);
});
