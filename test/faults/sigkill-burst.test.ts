// Scenario 5: SIGKILL during a burst of kernel records, then restart on the same state dir. The
// kmsg cursor must make the two runs together deliver each record still in the ring exactly once,
// and the store must survive the kill intact.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../helpers/wait.ts";
import { instance, section, startRun, status, stopDaemon, withSysctls } from "./index.ts";

const M = Number(process.env.FAULTS_BURST_RECORDS ?? 600);
const KILL_AT = Math.floor(M / 2);
const dir = mkdtempSync(join(tmpdir(), "faults20-kill-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tag = `faults20kill${process.pid}x${Math.random().toString(36).slice(2, 8)}`;
const sock = join(dir, "control.sock");
const cfg = join(dir, "c.toml");
writeFileSync(cfg, `[main]
state_dir = "${dir}/state"
control_socket = "${sock}"

[kmsg]
type = "sender"
accept_user_records = true

[fs]
type = "parser"

[store]
type = "receiver"
filter = { source = "kmsg" }

[events]
type = "receiver"
plugin = "file"
path = "${dir}/events.ndjson"
filter = { source = "kmsg" }
queue = { max_events = ${M * 2} }
`);

const rep = section({
  n: 5, title: "SIGKILL during a burst, then restart",
  injects: `${M} distinct ext4 error records written to /dev/kmsg; the first ${KILL_AT}, a pause past one cursor write, 50 more and at once SIGKILL of the daemon, the rest written while it is down, then a restart on the same state dir`,
  holds: [
    "every tagged record reaches the file receiver over the two runs (the burst stays below what the ring holds: this machine's 128 KiB ring keeps about 1000 such records)",
    "no tagged record is delivered twice across the restart (the cursor)",
    "the store passes PRAGMA integrity_check after the kill and after the restart",
  ],
});
rep.note("FAULTS_BURST_RECORDS sets the burst size; it must stay below what the kernel ring holds (log_buf_len).");

const line = (i: number) => `EXT4-fs error (device ${tag}): ext4_lookup:1855: inode #${i}: comm burst: deleted inode referenced: ${i}\n`;
const delivered = () => existsSync(join(dir, "events.ndjson"))
  ? readFileSync(join(dir, "events.ndjson"), "utf8").split("\n").filter((l) => l.includes(`device ${tag})`)).map((l) => Number(/inode #(\d+)/.exec(JSON.parse(l).raw)![1]))
  : [];
const integrity = () => {
  const db = new Database(join(dir, "state/events.db"), { readonly: true });
  try {
    return (db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
  } finally {
    db.close();
  }
};

test(`SIGKILL after ${KILL_AT} of ${M} records, restart: each record once, store intact`, async () => {
  await rep.run(async () => {
    await withSysctls({ "kernel.printk_devkmsg": "on", "kernel.printk": "1 4 1 7" }, async () => {
      const first = await startRun(cfg);
      await waitFor(() => existsSync(join(dir, "state/kmsg.cursor")), 10_000, "the first cursor write");
      const fd = openSync("/dev/kmsg", "w");
      try {
        let i = 0;
        for (; i < KILL_AT; i++) writeSync(fd, line(i));
        await Bun.sleep(1300); // past one cursor write (cursor_interval 1 s)
        for (; i < KILL_AT + 50; i++) writeSync(fd, line(i));
        first.proc.kill("SIGKILL"); // while it reads these 50
        await first.proc.exited;
        for (; i < M; i++) writeSync(fd, line(i));
      } finally {
        closeSync(fd);
      }
      const beforeRestart = delivered().length;
      rep.figures["delivered before the kill"] = beforeRestart;
      rep.figures["store integrity after kill"] = integrity();
      const second = await startRun(cfg);
      try {
        // done when everything arrived, or nothing more arrived for 3 s (then the checks say what is missing)
        let last = -1;
        let since = Date.now();
        await waitFor(() => {
          const n = delivered().length;
          if (n !== last) [last, since] = [n, Date.now()];
          return n >= M || (n > beforeRestart && Date.now() - since > 3000);
        }, 30_000, "the second run to deliver anything", 250);
        const st = await status(sock);
        rep.figures["second run start"] = /kmsg: reading \/dev\/kmsg from ([^\n]*)/.exec(second.stderr())?.[1] ?? "?";
        rep.figures["second run records read"] = Number(instance(st, "kmsg").extra?.records);
      } finally {
        const s = await stopDaemon(second, 15_000);
        rep.figures["second run stop"] = s.killed ? "SIGKILLed after 15 s" : `exit ${s.code}`;
      }
      const all = delivered();
      const counts = new Map<number, number>();
      for (const i of all) counts.set(i, (counts.get(i) ?? 0) + 1);
      const missing = Array.from({ length: M }, (_, i) => i).filter((i) => !counts.has(i));
      const twice = [...counts].filter(([, c]) => c > 1).map(([i]) => i);
      Object.assign(rep.figures, {
        records: M, delivered_total: all.length, missing: missing.length, delivered_twice: twice.length,
        "store integrity after restart": integrity(),
      });
      expect(rep.figures["store integrity after kill"]).toBe("ok");
      expect(String(rep.figures["second run start"])).toMatch(/^after seq \d+/); // resumed from the saved cursor
      expect(missing.slice(0, 10)).toEqual([]);
      expect(twice.slice(0, 10)).toEqual([]);
      expect(integrity()).toBe("ok");
    });
  });
}, 90_000);
