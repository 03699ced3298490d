// Scenario 1: kernel log flood. N user records (FAULTS_KMSG_RECORDS, default 50k; the 1M
// fits a long run, not CI) are written to /dev/kmsg as fast as one writer can while the daemon
// runs one stalled receiver (an exec whose command never returns) and one healthy file receiver.
import { afterAll, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../helpers/wait.ts";
import { instance, rssMiB, sampler, section, startRun, status, stopDaemon, withSysctls } from "./index.ts";
import { kmsgDaemonHeader } from "./daemon.ts";

const N = Number(process.env.FAULTS_KMSG_RECORDS ?? 50_000);
const RSS_BOUND_MIB = 400;
const dir = mkdtempSync(join(tmpdir(), "faults20-flood-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tag = `faults20flood${process.pid}x${Math.random().toString(36).slice(2, 8)}`;
const sock = join(dir, "control.sock");

writeFileSync(join(dir, "c.toml"), `${kmsgDaemonHeader(dir, sock, { noFold: false })}
[fs]
type = "parser"

[stall]
type = "receiver"
plugin = "exec"
command = ["sleep", "100000"]
parallel = 1
timeout = "1h"
filter = { dev_name = "${tag}" }
queue = { max_events = 100, batch = 1 }

[healthy]
type = "receiver"
plugin = "file"
path = "${dir}/events.ndjson"
filter = { dev_name = "${tag}" }
queue = { max_events = ${Math.max(1000, N * 2)} }

[overruns]
type = "receiver"
plugin = "file"
path = "${dir}/overruns.ndjson"
filter = { event_type = "KMSG_OVERRUN" }
`);

interface KmsgExtra { records: number; lost: number; cursor_seq: number }

const rep = section({
  n: 1, title: "Kernel log flood",
  injects: `${N} user records written to /dev/kmsg from one fd as fast as possible (kernel.printk_devkmsg=on, console level 1 for the run), each a distinct ext4 error line; a stalled exec receiver (command never returns, queue 100, batch 1) and a healthy file receiver`,
  holds: [
    "the daemon stays up; peak RSS under " + RSS_BOUND_MIB + " MiB",
    "every tagged record the kmsg sender read reached the healthy receiver (its sent == lines in its file, no drop)",
    "stalled receiver: dropped == routed - queue depth - 1 in flight (exact count)",
    "ring accounting exact: records read + records lost == cursor seq advance (all writers' records); the KMSG_OVERRUN events' lost sum == the sender's lost counter over the same seq range; tagged records missing <= records lost; distinct texts arrive once each (never folded, SPEC §2)",
  ],
});
if (N < 1_000_000) rep.note(`Scaled down from the issue's 1M records to ${N} for CI time; FAULTS_KMSG_RECORDS=1000000 runs the full size.`);

test(`kmsg flood: ${N} records, one stalled and one healthy receiver`, async () => {
  await rep.run(async () => {
    const d = await startRun(join(dir, "c.toml"));
    const pid = d.proc.pid;
    try {
      const rss = sampler(() => rssMiB(pid), 50);
      const kmsg0 = instance(await status(sock), "kmsg").extra as unknown as KmsgExtra;
      const t0 = performance.now();
      let tWrite = 0;
      await withSysctls({ "kernel.printk_devkmsg": "on", "kernel.printk": "1 4 1 7" }, async () => {
        const fd = openSync("/dev/kmsg", "w");
        try {
          for (let i = 0; i < N; i++) writeSync(fd, `EXT4-fs error (device ${tag}): ext4_lookup:1855: inode #${i}: comm flood: deleted inode referenced: ${i}\n`);
        } finally {
          closeSync(fd);
        }
        tWrite = performance.now() - t0;
      });
      // the end marker: a parseable record after the flood; the sender has caught up once it is delivered
      writeFileSync("/dev/kmsg", `EXT4-fs error (device ${tag}): ext4_lookup:1855: inode #${N}: comm flood: end marker\n`);
      await waitFor(() => existsSync(join(dir, "events.ndjson")) && readFileSync(join(dir, "events.ndjson"), "utf8").includes(`inode #${N}: comm flood: end marker`), 60_000, "the end marker event", 100);
      const kmsg1 = instance(await status(sock), "kmsg").extra as unknown as KmsgExtra;
      const tRead = performance.now() - t0;
      const events = () => existsSync(join(dir, "events.ndjson")) ? readFileSync(join(dir, "events.ndjson"), "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
      const st = await waitFor(async () => {
        const s = await status(sock);
        const h = instance(s, "healthy").queue!;
        return h.depth === 0 && events().length === h.sent && s;
      }, 30_000, "the healthy receiver to drain", 200);
      const peak = Math.max(...rss.stop());
      const healthy = instance(st, "healthy").queue!;
      const stall = instance(st, "stall").queue!;
      const evs = events();
      const mine = evs.filter((e) => !String(e.raw).includes("end marker"));
      await Bun.sleep(500); // the overrun events of the snapshot reach their file
      const overruns = readFileSync(join(dir, "overruns.ndjson"), "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l).extension as { lost: number; first_lost_seq: number; last_lost_seq: number })
        .filter((o) => o.first_lost_seq > kmsg0.cursor_seq && o.last_lost_seq <= kmsg1.cursor_seq);
      const read = kmsg1.records - kmsg0.records;
      const lost = kmsg1.lost - kmsg0.lost;
      Object.assign(rep.figures, {
        records_written: N, write_seconds: (tWrite / 1000).toFixed(2), read_seconds: (tRead / 1000).toFixed(2),
        "records/s read": Math.round(read / (tRead / 1000)), records_read: read, records_lost_in_ring: lost,
        kmsg_overrun_events: overruns.length, tagged_events_delivered: mine.length,
        healthy_sent: healthy.sent, healthy_dropped: healthy.dropped, stalled_dropped: stall.dropped, stalled_depth: stall.depth,
        "peak RSS MiB": peak.toFixed(1),
      });
      expect(d.proc.exitCode).toBeNull();
      expect(peak).toBeLessThan(RSS_BOUND_MIB);
      expect(healthy.dropped).toBe(0);
      expect(healthy.sent).toBe(evs.length);
      expect(stall.dropped + stall.depth + 1).toBe(healthy.sent);
      expect(read + lost).toBe(kmsg1.cursor_seq - kmsg0.cursor_seq);
      expect(overruns.reduce((a, o) => a + o.lost, 0)).toBe(lost);
      for (const o of overruns) expect(o.last_lost_seq - o.first_lost_seq + 1).toBe(o.lost);
      // the tagged records carry their index; each one missing must have been overwritten
      const got = new Set(mine.map((e) => Number(/inode #(\d+)/.exec(e.raw)![1])));
      expect(N - got.size).toBeLessThanOrEqual(lost);
      if (lost === 0) expect(got.size).toBe(N);
      expect(mine.length).toBe(got.size); // distinct texts never fold, nothing twice
    } finally {
      const stop = await stopDaemon(d, 4000);
      rep.figures["SIGTERM stop"] = stop.killed ? "did not exit within shutdown_timeout (2 s) + 2 s: SIGKILLed (issue 13, bounded stop)" : `exit ${stop.code} after ${stop.ms.toFixed(0)} ms`;
    }
  });
}, 180_000);
