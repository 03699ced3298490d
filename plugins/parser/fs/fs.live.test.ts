// Real kernel, real loop device, real ext4: trigger_fs_error and check what the fs parser makes of
// the records /dev/kmsg hands out. Needs root, loop devices and mkfs.ext4; skipped otherwise.
import { afterAll, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, constants } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { randomBytes } from "node:crypto";
import plugin from "./index.ts";
import type { EventDraft } from "../../../src/plugin-api.ts";
import { makeParser, readKmsgFixture, runParser } from "../../../test/helpers/kparser-cases.ts";

const canRun = process.getuid?.() === 0 && existsSync("/dev/loop-control") && existsSync("/dev/kmsg") &&
  Bun.which("mkfs.ext4") !== null && Bun.which("losetup") !== null;

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

/** /dev/kmsg opened at its current end: records written after this are what read() returns. */
class KmsgTail {
  private fd = openSync("/dev/kmsg", constants.O_RDONLY | constants.O_NONBLOCK);
  private buf = Buffer.alloc(16384);
  constructor() {
    while (this.readOne() !== undefined) {} // drain what the ring already holds
  }
  readOne(): string | undefined {
    for (;;) {
      try {
        const n = readSync(this.fd, this.buf, 0, this.buf.length, null);
        return this.buf.toString("utf8", 0, n);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EPIPE") continue; // overrun: the next read starts at the oldest record
        if (code === "EAGAIN") return undefined;
        throw e;
      }
    }
  }
  /** Records until `done` holds for the text read so far, or the deadline passes. */
  async until(done: (text: string) => boolean, ms = 3000): Promise<string> {
    let text = "";
    const end = performance.now() + ms;
    while (performance.now() < end) {
      for (let r = this.readOne(); r !== undefined; r = this.readOne()) text += r;
      if (done(text)) break;
      await Bun.sleep(20);
    }
    return text;
  }
  close(): void {
    closeSync(this.fd);
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

test.skipIf(!canRun || Bun.which("mkfs.xfs") === null || Bun.which("xfs_io") === null)(
  "XFS on a real loop device: mount, xfs_io shutdown, unmount -> FS_MOUNTED, FS_SHUTDOWN (one event for its three lines), FS_UNMOUNTED",
  async () => {
    const kmsg = new KmsgTail();
    cleanups.push(() => kmsg.close());
    const { parser } = await makeParser(plugin, {});
    const fs = loopFs(["mkfs.xfs", "-q", "-f"], "xfs");
    sh("xfs_io", "-x", "-c", "shutdown -f", fs.mnt);
    const text = await kmsg.until((t) => t.includes(`XFS (${fs.loop}): Please unmount the filesystem`));
    const out: EventDraft[] = [];
    for (const r of readKmsgFixture(text)) parser.parse(r, (d) => out.push(d));
    fs.unmount();
    const tail = await kmsg.until((t) => t.includes(`XFS (${fs.loop}): Unmounting Filesystem`));
    for (const r of readKmsgFixture(tail)) parser.parse(r, (d) => out.push(d));
    parser.flush?.((d) => out.push(d), true);
    const mine = out.filter((d) => d.dev_name === fs.loop);
    expect(mine.map((d) => [d.event_type, d.extension?.fs_type, d.extension?.mount_point])).toEqual([
      ["FS_MOUNTED", "xfs", fs.mnt], ["FS_SHUTDOWN", "xfs", fs.mnt], ["FS_UNMOUNTED", "xfs", fs.mnt],
    ]);
    const shutdown = mine[1]!;
    expect(shutdown.extension).toMatchObject({ user_initiated: true, file: "fs/xfs/xfs_fsops.c" });
    expect(shutdown.raw!.split("\n").length).toBe(3);
  },
  20_000,
);

test.skipIf(!canRun || Bun.which("mkfs.btrfs") === null)(
  "btrfs on a real loop device: mount and unmount -> FS_MOUNTED, FS_UNMOUNTED with fs type and mount point",
  async () => {
    const kmsg = new KmsgTail();
    cleanups.push(() => kmsg.close());
    const { parser } = await makeParser(plugin, {});
    const fs = loopFs(["mkfs.btrfs", "-q", "-f"], "btrfs");
    const text = await kmsg.until((t) => t.includes(`BTRFS info (device ${fs.loop}): first mount of filesystem`));
    const out: EventDraft[] = [];
    for (const r of readKmsgFixture(text)) parser.parse(r, (d) => out.push(d));
    fs.unmount();
    const tail = await kmsg.until((t) => t.includes(`BTRFS info (device ${fs.loop}): last unmount of filesystem`));
    for (const r of readKmsgFixture(tail)) parser.parse(r, (d) => out.push(d));
    const mine = out.filter((d) => d.dev_name === fs.loop);
    expect(mine.map((d) => [d.event_type, d.extension?.fs_type, d.extension?.mount_point])).toEqual([
      ["FS_MOUNTED", "btrfs", fs.mnt], ["FS_UNMOUNTED", "btrfs", fs.mnt],
    ]);
  },
  20_000,
);

test.skipIf(!canRun)("ext4 trigger_fs_error on a real loop device -> FS_ERROR, FS_JOURNAL_ABORT, FS_REMOUNT_RO, FS_UNMOUNTED with the mount point", async () => {
  const { loop, mnt, unmount } = loopFs(["mkfs.ext4", "-q", "-F"], "ext4", ["-o", "errors=remount-ro"], "32M");
  const { parser } = await makeParser(plugin, {});
  const kmsg = new KmsgTail();
  cleanups.push(() => kmsg.close());
  const marker = `storeventd-live-${randomBytes(6).toString("hex")}`;
  writeFileSync(`/sys/fs/ext4/${loop}/trigger_fs_error`, marker);
  const text = await kmsg.until((t) => t.includes(marker) && t.includes(`EXT4-fs (${loop}): Remounting filesystem read-only`));
  const events: EventDraft[] = runParser(parser, readKmsgFixture(text)).filter((d) => d.dev_name === loop);

  const error = events.find((d) => d.event_type === "FS_ERROR");
  expect(error).toBeDefined();
  expect(error!.severity).toBe("error");
  expect(error!.extension).toMatchObject({ fs_type: "ext4", mount_point: mnt, func: "trigger_test_error", detail: marker });
  expect(error!.raw).toContain(`EXT4-fs error (device ${loop}): trigger_test_error:`);
  expect(events.map((d) => d.event_type)).toEqual(["FS_ERROR", "FS_JOURNAL_ABORT", "FS_REMOUNT_RO"]);
  for (const d of events) expect(d.extension).toMatchObject({ fs_type: "ext4", mount_point: mnt });

  // The unmount event still names the mount point although the mount is gone when it is parsed.
  unmount();
  const after = await kmsg.until((t) => t.includes(`EXT4-fs (${loop}): unmounting filesystem`));
  const out: EventDraft[] = [];
  for (const r of readKmsgFixture(after)) parser.parse(r, (d) => out.push(d));
  expect(out.filter((d) => d.dev_name === loop).map((d) => [d.event_type, d.extension?.mount_point])).toEqual([["FS_UNMOUNTED", mnt]]);
}, 20_000);
