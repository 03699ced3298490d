// Real kernel, real loop devices, real ext4/XFS/btrfs: trigger errors and shutdowns and check what
// the fs parser makes of the records the project's /dev/kmsg reader hands out.
// Needs root, loop devices and mkfs.ext4 (mkfs.xfs/xfs_io, mkfs.btrfs for theirs); skipped otherwise.
import { afterAll, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { randomBytes } from "node:crypto";
import plugin from "./index.ts";
import type { EventDraft, KmsgRecord } from "../../../src/plugin-api.ts";
import { openKmsgReader } from "../../../src/plugin-kit/readers.ts";
import { KmsgStatus } from "../../../src/plugin-kit/kernel.ts";
import { nativeAddon } from "../../../src/plugin-kit/readers.ts";
import { makeParser } from "../../../test/helpers/parser-fixtures.ts";
import { createDeviceDirectory } from "../../../src/plugin-kit/devices.ts";
import { need, rootAnd, tool } from "../../../test/helpers/need.ts";

const base = { ...rootAnd("/dev/loop-control", "/dev/kmsg"), "mkfs.ext4": tool("mkfs.ext4"), losetup: tool("losetup") };

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch {}
  }
});

function sh(...argv: string[]): string {
  const r = Bun.spawnSync(argv, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

/** The project's /dev/kmsg reader (the kmsg sender's: native thread when the addon has it), from the end. */
class KmsgTail {
  private records: KmsgRecord[] = [];
  private handle = openKmsgReader(nativeAddon(), { path: "/dev/kmsg", seek: "end", afterSeq: -1, source: "kmsg" }, (batch) => {
    for (const d of batch) if (d.status === KmsgStatus.ok) this.records.push(d.record);
  });
  /** Resolves once the reader is past the ring's old records: a marker written now comes through. */
  async ready(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const marker = `storeventd fs live test ${randomBytes(6).toString("hex")} start`;
      const fd = openSync("/dev/kmsg", "w"); // a fresh fd: the printk_devkmsg rate limit counts per open file
      writeSync(fd, `<5>${marker}\n`);
      closeSync(fd);
      // A marker written while the reader still skips the old records is skipped too: write another.
      if ((await this.until([marker], 250)).some((r) => r.msg === marker)) return;
    }
    throw new Error("the kmsg reader never caught up");
  }

  /** Records until every one of `lines` has appeared in a message, or the deadline passes. */
  async until(lines: string[], ms = 3000): Promise<KmsgRecord[]> {
    const end = performance.now() + ms;
    while (performance.now() < end && !lines.every((l) => this.records.some((r) => r.msg.includes(l)))) await Bun.sleep(20);
    const out = this.records;
    this.records = [];
    return out;
  }
  close(): void {
    this.handle.close();
  }
}

/** A loop device with a fresh filesystem, mounted under a new temp dir; cleaned up after all tests. */
function loopFs(mkfs: string[], name: string, mountOpts: string[] = [], size = "320M"): { loop: string; loopPath: string; mnt: string; unmount: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `storeventd-fs-live-${name}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const image = join(dir, `${name}.img`);
  const mnt = join(dir, "mnt point"); // a space: mountinfo escapes it as \040
  sh("truncate", "-s", size, image);
  sh(...mkfs, image);
  const loopPath = sh("losetup", "-f", "--show", image);
  cleanups.push(() => sh("losetup", "-d", loopPath));
  sh("mkdir", "-p", mnt);
  let mounted = false;
  cleanups.push(() => mounted && sh("umount", "-l", mnt));
  sh("mount", ...mountOpts, loopPath, mnt);
  mounted = true;
  return { loop: loopPath.replace("/dev/", ""), loopPath, mnt, unmount: () => (sh("umount", mnt), (mounted = false)) };
}

/** A fresh filesystem on a loop device, and the fs parser fed from /dev/kmsg as the kernel writes. */
async function live(mkfs: string[], name: string, mountOpts: string[] = [], size?: string) {
  const kmsg = new KmsgTail();
  cleanups.push(() => kmsg.close());
  await kmsg.ready();
  const devices = createDeviceDirectory();
  const { parser } = await makeParser(plugin, {}, { devices });
  const fs = loopFs(mkfs, name, mountOpts, size);
  devices.scan(); // what the daemon's udev sender does on the loop device's uevents (lookups never read sysfs)
  const out: EventDraft[] = [];
  const mine = () => out.filter((d) => d.dev_name === fs.loop);
  return {
    ...fs,
    /** Parses the new records once all `lines` have shown up; the events so far for this device. */
    async readUntil(...lines: string[]): Promise<EventDraft[]> {
      for (const r of await kmsg.until(lines)) parser.parse(r, (d) => out.push(d));
      return mine();
    },
    finish(): EventDraft[] {
      parser.flush?.((d) => out.push(d), true);
      return mine();
    },
  };
}

const summary = (ds: EventDraft[]) => ds.map((d) => [d.event_type, d.extension?.fs_type, d.extension?.mount_point]);

test("ext4 trigger_fs_error on a real loop device -> FS_ERROR, FS_JOURNAL_ABORT, FS_REMOUNT_RO, FS_UNMOUNTED with the mount point", async () => {
  need(base);
  const fs = await live(["mkfs.ext4", "-q", "-F"], "ext4", ["-o", "errors=remount-ro"], "32M");
  const marker = `storeventd-live-${randomBytes(6).toString("hex")}`;
  writeFileSync(`/sys/fs/ext4/${fs.loop}/trigger_fs_error`, marker);
  const events = await fs.readUntil(marker, `EXT4-fs (${fs.loop}): Remounting filesystem read-only`);
  expect(summary(events)).toEqual([
    ["FS_MOUNTED", "ext4", fs.mnt], ["FS_ERROR", "ext4", fs.mnt], ["FS_JOURNAL_ABORT", "ext4", fs.mnt], ["FS_REMOUNT_RO", "ext4", fs.mnt],
  ]);
  const error = events[1]!;
  expect(error.severity).toBe("error");
  expect(error.extension).toMatchObject({ func: "trigger_test_error", detail: marker });
  expect(error.raw).toContain(`EXT4-fs error (device ${fs.loop}): trigger_test_error:`);

  // The unmount event still names the mount point although the mount is gone when it is parsed.
  fs.unmount();
  const all = await fs.readUntil(`EXT4-fs (${fs.loop}): unmounting filesystem`);
  expect(summary(all.slice(4))).toEqual([["FS_UNMOUNTED", "ext4", fs.mnt]]);
}, 20_000);

test(
  "XFS on a real loop device: mount, xfs_io shutdown, unmount -> FS_MOUNTED, FS_SHUTDOWN (one event for its three lines), FS_UNMOUNTED",
  async () => {
    need({ ...base, "mkfs.xfs (xfsprogs)": tool("mkfs.xfs"), "xfs_io (xfsprogs)": tool("xfs_io") });
    const fs = await live(["mkfs.xfs", "-q", "-f"], "xfs");
    sh("xfs_io", "-x", "-c", "shutdown -f", fs.mnt);
    await fs.readUntil(`XFS (${fs.loop}): Please unmount the filesystem`);
    fs.unmount();
    await fs.readUntil(`XFS (${fs.loop}): Unmounting Filesystem`);
    const events = fs.finish();
    expect(summary(events)).toEqual([["FS_MOUNTED", "xfs", fs.mnt], ["FS_SHUTDOWN", "xfs", fs.mnt], ["FS_UNMOUNTED", "xfs", fs.mnt]]);
    expect(events[1]!.extension).toMatchObject({ user_initiated: true, file: "fs/xfs/xfs_fsops.c" });
    expect(events[1]!.raw!.split("\n").length).toBe(3);
  },
  20_000,
);

test(
  "btrfs on a real loop device: mount and unmount -> FS_MOUNTED, FS_UNMOUNTED with fs type and mount point",
  async () => {
    need({ ...base, "mkfs.btrfs (btrfs-progs)": tool("mkfs.btrfs") });
    const fs = await live(["mkfs.btrfs", "-q", "-f"], "btrfs");
    await fs.readUntil(`BTRFS info (device ${fs.loop}): first mount of filesystem`);
    fs.unmount();
    await fs.readUntil(`BTRFS info (device ${fs.loop}): last unmount of filesystem`);
    expect(summary(fs.finish())).toEqual([["FS_MOUNTED", "btrfs", fs.mnt], ["FS_UNMOUNTED", "btrfs", fs.mnt]]);
  },
  20_000,
);
