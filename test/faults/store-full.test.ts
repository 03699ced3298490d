// Scenario 3: the store on a full file system. The database lives on a small loop-mounted ext4;
// a filler file takes every free block while events flow; then the filler is removed.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../helpers/wait.ts";
import { instance, section, startRun, status, stopDaemon, withSysctls } from "./index.ts";
import { kmsgDaemonHeader } from "./daemon.ts";

const dir = mkdtempSync(join(tmpdir(), "faults20-enospc-"));
const mnt = join(dir, "mnt");
const img = join(dir, "fs.img");
let loop = "";
const sh = (...argv: string[]) => {
  const r = Bun.spawnSync(argv, { stderr: "pipe", stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
};
afterAll(() => {
  if (existsSync(mnt)) Bun.spawnSync(["umount", "-l", mnt]);
  if (loop) Bun.spawnSync(["losetup", "-d", loop]);
  rmSync(dir, { recursive: true, force: true });
});
const tag = `faults20full${process.pid}x${Math.random().toString(36).slice(2, 8)}`;
const sock = join(dir, "control.sock");

const rep = section({
  n: 3, title: "Store on a full file system",
  injects: "the store's database on a 16 MiB loop-mounted ext4; a filler file takes every free block while kernel records keep coming (user records via /dev/kmsg); then the filler is deleted",
  holds: [
    "no crash; the file receiver (on another file system) gets every event throughout",
    "the failure shows in status (store write_errors, dropped counter, the last error naming ENOSPC / disk full) and is logged, rate-limited (at most one line a minute plus one)",
    "events that could not be stored are counted: written + dropped == events the router handed to the store",
    "writing resumes by itself once space is freed; PRAGMA integrity_check says ok afterwards",
  ],
});

const line = (i: number) => `EXT4-fs error (device ${tag}): ext4_lookup:1855: inode #${i}: comm full: deleted inode referenced: ${i}\n`;

test("store on a full file system: ENOSPC counted and reported, others unaffected, resumes", async () => {
  await rep.run(async () => {
    mkdirSync(mnt);
    writeFileSync(img, Buffer.alloc(0));
    sh("truncate", "-s", "16M", img);
    sh("mkfs.ext4", "-q", "-m", "0", img);
    loop = sh("losetup", "--find", "--show", img);
    sh("mount", loop, mnt);
    writeFileSync(join(dir, "c.toml"), `${kmsgDaemonHeader(dir, sock, { noFold: true })}
[fs]
type = "parser"

[store]
type = "receiver"
path = "${mnt}/events.db"
flush_interval = "100ms"
filter = { source = "kmsg" }

[events]
type = "receiver"
plugin = "file"
path = "${dir}/events.ndjson"
filter = { source = "kmsg" }
queue = { max_events = 100000 }
`);
    const d = await startRun(join(dir, "c.toml"));
    const mine = () => existsSync(join(dir, "events.ndjson")) ? readFileSync(join(dir, "events.ndjson"), "utf8").split("\n").filter((l) => l.includes(`device ${tag})`)).length : 0;
    let n = 0;
    const write = async (count: number) => {
      await withSysctls({ "kernel.printk_devkmsg": "on" }, async () => {
        const fd = openSync("/dev/kmsg", "w");
        try {
          for (let i = 0; i < count; i++) { writeSync(fd, line(n++)); if (i % 50 === 49) await Bun.sleep(20); }
        } finally {
          closeSync(fd);
        }
      });
    };
    try {
      await write(200);
      await waitFor(() => mine() === n, 10_000, "the first 200 events in the file");
      // fill the file system: one big file, then small ones until not even a block is left
      const fill = (name: string, bs: string) => Bun.spawnSync(["dd", "if=/dev/zero", `of=${join(mnt, name)}`, `bs=${bs}`], { stderr: "pipe" });
      fill("filler", "1M");
      for (let k = 0; k < 50; k++) if (!fill(`filler-${k}`, "1k").exitCode) break;
      rep.figures["free bytes after filling"] = Number(sh("df", "--output=avail", "-B1", mnt).split("\n")[1]);
      await write(600);
      await waitFor(() => mine() === n, 20_000, "every event in the file while the store is full");
      await Bun.sleep(500);
      const full = instance(await status(sock), "store");
      // free the space; writing must resume by itself
      sh("sh", "-c", `rm -f ${mnt}/filler*`);
      const before = n;
      await write(200);
      await waitFor(() => mine() === n, 10_000, "the last 200 events in the file");
      const resumed = await waitFor(async () => {
        const s = instance(await status(sock), "store");
        return Number(s.extra?.written ?? 0) + Number(s.counters.dropped ?? 0) >= (s.queue?.sent ?? Infinity) && s.queue?.depth === 0 && s;
      }, 10_000, "the store to account for every event").catch(async () => instance(await status(sock), "store"));
      const stop = await stopDaemon(d, 5000);
      const db = new Database(join(mnt, "events.db"), { readonly: true });
      let stored = 0;
      let check = "";
      let lastStored = 0;
      try {
        check = (db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
        stored = (db.query("SELECT count(*) AS n FROM events WHERE raw LIKE ?").get(`%${tag}%`) as { n: number }).n;
        lastStored = (db.query("SELECT count(*) AS n FROM events WHERE raw LIKE ? AND CAST(substr(raw, instr(raw, 'inode #') + 7) AS INTEGER) >= ?").get(`%${tag}%`, before) as { n: number }).n;
      } finally {
        db.close();
      }
      const logLines = d.stderr().split("\n").filter((l) => /^(warn|error): store: /.test(l) && /(No space|ENOSPC|full|cannot write)/i.test(l));
      for (const l of logLines) rep.note(`log: ${l.slice(0, 200)}`);
      Object.assign(rep.figures, {
        "events sent": n, "events in the file receiver": mine(),
        "events sent to the store (all kmsg events)": resumed.queue?.sent ?? "?", "store written (status)": Number(resumed.extra?.written ?? 0), "store dropped (status)": Number(resumed.counters.dropped ?? 0),
        "store write_errors while full": Number(full.extra?.write_errors ?? 0), "store last_error while full": String(full.extra?.last_error ?? "(none)"),
        "rows stored (tagged)": stored, "rows stored after space was freed": `${lastStored} of ${n - before}`,
        "log lines about the failure": logLines.length, "integrity_check": check, "stop": stop.killed ? "SIGKILLed" : `exit ${stop.code}`,
      });
      expect(d.stderr()).not.toMatch(/uncaught|unhandled|panic/i);
      expect(mine()).toBe(n);
      expect(Number(full.extra?.write_errors ?? 0)).toBeGreaterThan(0);
      expect(Number(full.counters.dropped ?? 0)).toBeGreaterThan(0);
      expect(String(full.extra?.last_error ?? "")).toMatch(/full|ENOSPC|space/i);
      expect(logLines.length).toBeGreaterThanOrEqual(1);
      expect(logLines.length).toBeLessThanOrEqual(2);
      expect(Number(resumed.extra?.written ?? 0) + Number(resumed.counters.dropped ?? 0)).toBe(resumed.queue!.sent);
      expect(lastStored).toBe(n - before);
      expect(check).toBe("ok");
    } finally {
      if (d.proc.exitCode === null) await stopDaemon(d, 5000);
    }
  });
}, 120_000);
