// End to end on the real kernel with the compiled binary: a real ext4 error on a loop device
// becomes FS_ERROR with its mount point at the file receiver; injected kernel-log lines arrive in
// order and once, also across a restart (cursor).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./helpers/wait.ts";
import { runBin, startDaemon } from "./helpers/bin.ts";

const dir = mkdtempSync(join(tmpdir(), "storeventd-e2e-"));
const mnt = join(dir, "mnt point"); // a space: mountinfo escapes it as \040
const img = join(dir, "ext4.img");
const out = join(dir, "events.ndjson");
let loop = "";

const sh = (cmd: string[]) => {
  const r = Bun.spawnSync(cmd, { stderr: "pipe", stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
};
// Only whole lines: the daemon may be in the middle of writing the last one.
const events = () => (existsSync(out) ? readFileSync(out, "utf8").split("\n").slice(0, -1).filter(Boolean).map((l) => JSON.parse(l)) : []);

beforeAll(() => {
  mkdirSync(mnt);
  sh(["truncate", "-s", "32M", img]);
  sh(["mkfs.ext4", "-q", "-F", img]);
  loop = sh(["losetup", "-f", "--show", img]).replace("/dev/", "");
  sh(["mount", "-t", "ext4", `/dev/${loop}`, mnt]);
});
afterAll(() => {
  Bun.spawnSync(["umount", "-l", mnt]);
  if (loop) Bun.spawnSync(["losetup", "-d", `/dev/${loop}`]);
  rmSync(dir, { recursive: true, force: true });
});

function config(from = "cursor"): string {
  const path = join(dir, "storeventd.toml");
  writeFileSync(path, `[main]
state_dir = "${dir}/state"
control_socket = "${dir}/control.sock"
dedup_window = "1s"
[kmsg]
type = "sender"
from = "${from}"
accept_user_records = true
cursor_interval = "100ms"
[events]
type = "receiver"
plugin = "file"
path = "${out}"
fsync = "always"
[store]
type = "receiver"
flush_interval = "100ms"
`);
  return path;
}

test("a real EXT4-fs error on a loop device arrives as FS_ERROR with its mount point", async () => {
  // From the ring start: the "reading" log line can come before the reader thread has seeked, so
  // with "end" an error written right after it could be skipped. Loop numbers are reused and the
  // ring may hold an older run's error, so the error is found by a token of this run.
  const token = `storeventd-e2e-${process.pid}-${Date.now()}`;
  const d = await startDaemon(["run", "-c", config("start")], (e) => /kmsg: reading \/dev\/kmsg/.test(e));
  try {
    writeFileSync(`/sys/fs/ext4/${loop}/trigger_fs_error`, `${token}\n`);
    const e = await waitFor(() => events().find((x) => x.event_type === "FS_ERROR" && x.dev_name === loop && x.raw.includes(token)), 30_000, "FS_ERROR");
    expect(e).toMatchObject({
      severity: "error", system: "fs", dev_name: loop, dev_path: `/dev/${loop}`, source: "kmsg",
      extension: expect.objectContaining({ fs_type: "ext4", mount_point: mnt }),
    });
    expect(e.raw).toContain(`EXT4-fs error (device ${loop})`);
    expect(e.msg.length).toBeGreaterThan(0);
    expect(Date.parse(e.time)).toBeGreaterThan(Date.now() - 60_000); // kernel time mapped to wall clock
    // `info` joins sysfs (ids, mounts) with the daemon's store (recent events). The file receiver
    // and the store are separate queues: the store may take longer than a fixed sleep under load,
    // so ask until the event is there (a store that never gets it still fails).
    const ids = (r: { recent_events: { event_id: string }[] }) => r.recent_events.map((x) => x.event_id);
    const rep = await waitFor(async () => {
      const info = await runBin(["info", loop, "--json", "--socket", join(dir, "control.sock")]);
      expect(info.code).toBe(0);
      const r = JSON.parse(info.stdout);
      return ids(r).includes(e.event_id) && r;
    }, 15_000, "the FS_ERROR in info's recent_events").catch(async () => JSON.parse((await runBin(["info", loop, "--json", "--socket", join(dir, "control.sock")])).stdout));
    expect(rep.mounts.map((m: { mount_point: string }) => m.mount_point)).toContain(mnt);
    expect(rep.recent_events.map((x: { event_id: string }) => x.event_id)).toContain(e.event_id);
  } finally {
    d.proc.kill("SIGTERM");
    expect(await d.proc.exited).toBe(0);
  }
}, 60_000);

test("injected kernel-log lines arrive in order and once, across a restart", async () => {
  const tag = `e2e${process.pid}x${Math.random().toString(36).slice(2, 6)}`;
  // An ext4-format line (fs/ext4/super.c __ext4_error) naming a device that does not exist here.
  const line = (i: number) => `<3>EXT4-fs error (device ${tag}): ext4_lookup:1855: inode #${1000 + i}: comm storeventd-test: iget: bad extra_isize ${i}`;
  const inject = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const fd = openSync("/dev/kmsg", "w"); // reopen per record: the default ratelimit is per open fd
      writeSync(fd, line(i) + "\n"); // without the newline the kernel keeps the record open for a continuation
      closeSync(fd);
    }
  };
  const ours = () => events().filter((e) => e.dev_name === tag).map((e) => Number(/extra_isize (\d+)/.exec(e.msg + e.raw)![1]));
  const cfg = config();
  let d = await startDaemon(["run", "-c", cfg], (e) => /kmsg: reading \/dev\/kmsg/.test(e));
  inject(0, 8);
  await waitFor(() => ours().length >= 8 || undefined, 30_000, "8 events").catch((e) => {
    throw new Error(`${e.message}: got ${JSON.stringify(ours())}; stderr:\n${d.stderr()}`);
  });
  d.proc.kill("SIGTERM");
  expect(await d.proc.exited).toBe(0);
  inject(8, 12); // written while the daemon is down: the cursor picks them up
  d = await startDaemon(["run", "-c", cfg], (e) => /kmsg: reading \/dev\/kmsg/.test(e));
  try {
    expect(d.stderr()).toMatch(/from after seq \d+/);
    await waitFor(() => ours().length >= 12 || undefined, 30_000, "12 events").catch((e) => {
      throw new Error(`${e.message}: got ${JSON.stringify(ours())}; stderr:\n${d.stderr()}`);
    });
    await Bun.sleep(1500); // longer than the fold window: anything repeated would show now
    expect(ours()).toEqual(Array.from({ length: 12 }, (_, i) => i));
  } finally {
    d.proc.kill("SIGTERM");
    await d.proc.exited;
  }
}, 60_000);
