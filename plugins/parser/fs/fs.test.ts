import { describe, expect, test } from "bun:test";
import plugin, { FsParser } from "./index.ts";
import { FS_PATTERNS, HEXDUMP } from "./patterns.ts";
import { parseMountinfo } from "../../../src/plugin-api.ts";
import { findMount } from "./mountinfo.ts";
import type { DeviceDirectory, EventDraft } from "../../../src/plugin-api.ts";
import { makeParser, parserSuite, readKmsgFixture, runParser } from "../../../test/helpers/parser-fixtures.ts";

parserSuite({
  nearMissHitsNone: false,
  plugin,
  dir: import.meta.dir,
  patterns: [...FS_PATTERNS, HEXDUMP],
  hostile: [
    "EXT4-fs error (device sda1): ext4_lookup:1606: comm ", "XFS (sda): Metadata corruption detected at ",
    "BTRFS error (device sda: state EA): bdev ", "BTRFS: error (device sda) in f:1: errno=-5 ", "Aborting journal on device ",
  ],
  // Fixtures look mount points up in their own mountinfo only, never in this host's device
  // directory (whose mountOf() would win, and other tests mount loop devices meanwhile).
  context: { devices: { identify: (n: string) => ({ dev_name: n, dev_path: "", dev_wwid: "", owners: [] }) } satisfies DeviceDirectory },
});

describe("mountinfo", () => {
  test("findMount() matches /dev/<dev> directly or through the resolver (dm names)", () => {
    const entries = parseMountinfo("1 1 253:3 / /srv rw - xfs /dev/mapper/vg-srv rw\n2 1 8:1 / /boot rw - ext4 /dev/sda1 rw\n");
    expect(findMount(entries, "sda1")).toEqual({ mount_point: "/boot", fs_type: "ext4" });
    expect(findMount(entries, "dm-3")).toBeUndefined();
    expect(findMount(entries, "dm-3", (p) => (p === "/dev/mapper/vg-srv" ? "/dev/dm-3" : p))).toEqual({ mount_point: "/srv", fs_type: "xfs" });
  });

  test("the device directory's mountOf() wins over mountinfo", async () => {
    const devices: DeviceDirectory = {
      identify: (n) => ({ dev_name: n, dev_path: "", dev_wwid: "", owners: [] }),
      mountOf: (d) => (d === "sdq" ? { mount_point: "/from/devices", fs_type: "ext4" } : undefined),
    };
    const { parser } = await makeParser(plugin, { mountinfo: "/nonexistent" }, { devices });
    const out = runParser(parser, readKmsgFixture("2,1,10,-;EXT4-fs error (device sdq): f:1: comm x: y\n"));
    expect(out[0]!.extension).toMatchObject({ mount_point: "/from/devices", fs_type: "ext4" });
  });

  test("an unmount keeps the mount point seen earlier, after the mount is gone", () => {
    let mounted = true;
    const p = new FsParser(1000, (d) => (mounted && d === "sdq" ? { mount_point: "/data", fs_type: "xfs" } : undefined));
    const recs = readKmsgFixture("5,1,10,-;XFS (sdq): Mounting V5 Filesystem\n6,2,20,-;XFS (sdq): Ending clean mount\n5,3,30,-;XFS (sdq): Unmounting Filesystem\n");
    const out: EventDraft[] = [];
    p.parse(recs[0]!, (d) => out.push(d));
    p.parse(recs[1]!, (d) => out.push(d));
    mounted = false;
    p.parse(recs[2]!, (d) => out.push(d));
    expect(out.map((d) => [d.event_type, d.extension?.mount_point, d.extension?.fs_type])).toEqual([
      ["FS_MOUNTED", "/data", "xfs"], ["FS_UNMOUNTED", "/data", "xfs"],
    ]);
  });
});

describe("FsParser held reports", () => {
  test("FS_MOUNTED waits for the mount to appear in the mount table (the kernel logs before attaching it)", async () => {
    let attached = false;
    const p = new FsParser(30, (d) => (attached && d === "sdq" ? { mount_point: "/data", fs_type: "ext4" } : undefined));
    const out: EventDraft[] = [];
    const [rec] = readKmsgFixture("6,1,10,-;EXT4-fs (sdq): mounted filesystem with ordered data mode. Opts: (null)\n");
    p.parse(rec!, (d) => out.push(d));
    expect(out).toEqual([]);
    attached = true;
    await Bun.sleep(40);
    p.flush((d) => out.push(d), false);
    expect(out.map((d) => [d.event_type, d.extension?.mount_point])).toEqual([["FS_MOUNTED", "/data"]]);
  });

  test("a held FS_MOUNTED goes out before the device's next event", () => {
    const p = new FsParser(1000, () => undefined);
    const recs = readKmsgFixture("6,1,10,-;EXT4-fs (sdq): mounted filesystem with ordered data mode. Opts: (null)\n2,2,20,-;EXT4-fs error (device sdq): f:1: comm x: y\n");
    const out: EventDraft[] = [];
    for (const r of recs) p.parse(r, (d) => out.push(d));
    expect(out.map((d) => d.event_type)).toEqual(["FS_MOUNTED", "FS_ERROR"]);
  });

  test("an XFS shutdown report is emitted by flush once its window has passed", async () => {
    const p = new FsParser(30, () => undefined);
    const out: EventDraft[] = [];
    for (const r of readKmsgFixture("1,1,10,-;XFS (sdq): User initiated shutdown received.\n")) p.parse(r, (d) => out.push(d));
    p.flush((d) => out.push(d), false);
    expect(out).toEqual([]);
    await Bun.sleep(40);
    p.flush((d) => out.push(d), false);
    expect(out.map((d) => d.event_type)).toEqual(["FS_SHUTDOWN"]);
  });

  test("checksum errors about different inodes stay separate events", () => {
    const recs = readKmsgFixture(
      "4,1,10,-;BTRFS warning (device sdq): csum failed root 5 ino 257 off 0 csum 0x1 expected csum 0x2 mirror 1\n" +
        "4,2,20,-;BTRFS warning (device sdq): csum failed root 5 ino 300 off 4096 csum 0x1 expected csum 0x2 mirror 1\n",
    );
    const out = runParser(new FsParser(1000, () => undefined), recs);
    expect(out.map((d) => d.extension?.ino)).toEqual([257, 300]);
  });
});

test("the schema rejects a bad join_window", async () => {
  await expect(makeParser(plugin, { join_window: "later" })).rejects.toThrow(/duration/);
});

test("a matching line with NUL or invalid UTF-8 inside is counted as bad, not emitted", async () => {
  const { parser, rec } = await makeParser(plugin, { mountinfo: "/nonexistent" });
  const recs = readKmsgFixture("2,1,10,-;EXT4-fs error (device sda1): f:1: comm x: y\n");
  const bad = [{ ...recs[0]!, msg: recs[0]!.msg + "\0" }, { ...recs[0]!, msg: recs[0]!.msg + "\ufffd" }];
  expect(runParser(parser, bad)).toEqual([]);
  expect([rec.counts.get("records_nul"), rec.counts.get("records_invalid_text")]).toEqual([1, 1]);
});
