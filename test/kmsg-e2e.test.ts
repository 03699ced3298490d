// The compiled binary (dist/storeventd run) with the kmsg sender and a file receiver, on the real
// /dev/kmsg: the daemon is frozen (SIGSTOP) while the ring is flooded, so it must report the loss
// as KMSG_OVERRUN; its cursor is saved at SIGTERM and a second run resumes right after it.
import { afterAll, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCursor } from "../plugins/sender/kmsg/index.ts";
import { waitFor } from "./helpers/wait.ts";
import { acquireSysctls } from "./helpers/sysctl.ts";
import { startDaemon } from "./helpers/bin.ts";

const dir = mkdtempSync(join(tmpdir(), "kmsg-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tag = `storeventd-kmsge2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

function config(): string {
  const path = join(dir, "storeventd.toml");
  writeFileSync(path, `[main]
state_dir = "${dir}/state"
control_socket = "${dir}/control.sock"

[kmsg]
type = "sender"
accept_user_records = true
cursor_interval = "100ms"

[events]
type = "receiver"
plugin = "file"
path = "${dir}/events.ndjson"
fsync = "always"
`);
  return path;
}


const events = () =>
  existsSync(join(dir, "events.ndjson"))
    ? readFileSync(join(dir, "events.ndjson"), "utf8").split("\n").slice(0, -1).filter(Boolean).map((l) => JSON.parse(l)) // whole lines only
    : [];

test("dist/storeventd: KMSG_OVERRUN after a frozen daemon misses ring records; cursor resumes after restart", async () => {
  const cfg = config();
  const cursorFile = join(dir, "state/kmsg.cursor");
  const first = await startDaemon(["run", "-c", cfg], (e) => /kmsg: reading \/dev\/kmsg from/.test(e));
  let stopped = false;
  let lastLost = -1;
  try {
    expect(first.stderr()).toMatch(/from ring start \(no cursor\) \(native reader\)/);
    await waitFor(() => readCursor(cursorFile) !== undefined, 5000, "the first cursor write");
    first.proc.kill("SIGSTOP");
    stopped = true;
    const release = acquireSysctls({ "kernel.printk_devkmsg": "on" });
    const fd = openSync("/dev/kmsg", "w");
    try {
      for (let i = 0; i < 2500; i++) writeSync(fd, `${tag} ${i} ${"y".repeat(160)}\n`);
    } finally {
      closeSync(fd);
      release();
    }
    first.proc.kill("SIGCONT");
    stopped = false;
    await waitFor(() => events().some((e) => e.event_type === "KMSG_OVERRUN"), 10_000, "KMSG_OVERRUN in the file");
    const ev = events().find((e) => e.event_type === "KMSG_OVERRUN");
    expect(ev).toMatchObject({ severity: "warn", system: "daemon", source: "kmsg" });
    expect(ev.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const x = ev.extension as { lost: number; first_lost_seq: number; last_lost_seq: number };
    expect(x.lost).toBeGreaterThan(0);
    expect(x.last_lost_seq - x.first_lost_seq + 1).toBe(x.lost);
    lastLost = x.last_lost_seq;
    console.log(`e2e overrun: ${JSON.stringify(x)}`);
    writeFileSync("/dev/kmsg", `${tag} last\n`);
    await Bun.sleep(300);
  } finally {
    if (stopped) first.proc.kill("SIGCONT");
    first.proc.kill("SIGTERM");
  }
  expect(await first.proc.exited).toBe(0);
  const saved = readCursor(cursorFile)!;
  expect(saved.seq).toBeGreaterThan(lastLost); // the records after the gap were handled and saved at SIGTERM
  expect(saved.boot_id).toBe(readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());

  const second = await startDaemon(["run", "-c", cfg], (e) => /kmsg: reading \/dev\/kmsg from/.test(e));
  try {
    expect(second.stderr()).toContain(`from after seq ${saved.seq} (native reader)`);
  } finally {
    second.proc.kill("SIGTERM");
  }
  expect(await second.proc.exited).toBe(0);
  expect(readCursor(cursorFile)!.seq).toBeGreaterThanOrEqual(saved.seq);
}, 60_000);
