// The kmsg sender on the real /dev/kmsg of this machine. Other tests write to the kernel log at the
// same time: every check filters on markers unique to this run.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { createKmsgSender, readCursor, schema, type KmsgTestHooks } from "../plugins/sender/kmsg/index.ts";
import type { KmsgRecord } from "../src/records.ts";
import { waitFor } from "./helpers/wait.ts";
import { acquireSysctls } from "./helpers/sysctl.ts";
import { makeContext } from "./helpers/context.ts";

const dir = mkdtempSync(join(tmpdir(), "kmsg-device-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const RUN = `storeventd-kmsgtest-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

/** One open per record: the default printk_devkmsg=ratelimit allows 10 writes per open fd per 5 s. */
function writeKmsg(line: string): void {
  writeFileSync("/dev/kmsg", line + "\n");
}


function startSender(options: Record<string, unknown>, hooks: KmsgTestHooks = {}) {
  const { ctx, rec, abort } = makeContext({ stateDir: join(dir, "state") });
  const sender = createKmsgSender(v.parse(schema, options), ctx, hooks);
  const done = sender.run();
  const kmsg = () => rec.records as KmsgRecord[];
  return {
    rec, sender, kmsg,
    marked: (tag: string) => kmsg().filter((r) => r.msg.includes(tag)),
    async stop() {
      abort.abort();
      await done;
    },
  };
}

const READERS = [["native", {}], ["typescript", { noNative: true }]] as const;

describe.each(READERS)("kmsg sender on /dev/kmsg (%s reader)", (kind, hooks) => {
  test("injected records arrive once, in order, with wall-clock time", async () => {
    const tag = `${RUN}-order-${kind}`;
    const s = startSender({ from: "start", accept_user_records: true }, hooks);
    try {
      // Each write bracketed by two readings: a loaded machine may preempt between stamp and write.
      const written: [number, number][] = [];
      for (let i = 0; i < 25; i++) {
        const t0 = Date.now() * 1000;
        writeKmsg(`<14>${tag} #${i}`);
        written.push([t0, Date.now() * 1000 + 1000]);
      }
      await waitFor(() => s.marked(tag).length >= 25, 10_000, "25 markers");
      await Bun.sleep(150); // a duplicate would show up by now
      const got = s.marked(tag);
      expect(got.map((r) => r.msg)).toEqual(Array.from({ length: 25 }, (_, i) => `${tag} #${i}`));
      expect(got.every((r) => r.facility === 1 && r.priority === 6)).toBe(true);
      const seqs = got.map((r) => r.seq);
      expect(seqs.every((q, i) => i === 0 || q > seqs[i - 1]!)).toBe(true);
      // outside its bracket by less than the reader's clock error
      const outside = (t: number, [a, b]: [number, number]) => (t < a ? a - t : t > b ? t - b : 0);
      got.forEach((r, i) => expect(outside(r.time_us!, written[i]!)).toBeLessThan(kind === "native" ? 50_000 : 100_000));
      expect(s.sender.status!().reader).toBe(kind);
      expect(s.rec.readyCalls).toBe(1);
    } finally {
      await s.stop();
    }
  });

  test("user records (even those claiming facility 0) are skipped unless accept_user_records", async () => {
    const tag = `${RUN}-skip-${kind}`;
    const strict = startSender({ from: "end" }, hooks);
    const witness = startSender({ from: "end", accept_user_records: true }, hooks);
    try {
      // "end" is applied when the reader opens: keep writing a sync marker until it is seen
      await waitFor(() => (writeKmsg(`${tag} sync`), witness.marked(tag).length > 0), 5000, "the sync marker");
      for (let i = 0; i < 5; i++) writeKmsg(`<${i % 2 ? 0 : 3}>${tag} forged ${i}`);
      await waitFor(() => witness.marked(`${tag} forged`).length === 5, 5000, "5 witness markers");
      const last = witness.marked(tag).at(-1)!.seq;
      await waitFor(() => (strict.sender.status!().cursor_seq as number) >= last, 5000, "the strict reader to pass them");
      expect(strict.marked(tag)).toEqual([]);
      expect(strict.sender.status!().user_skipped as number).toBeGreaterThanOrEqual(5);
      // the kernel does not let a writer claim the kernel facility
      expect(witness.marked(`${tag} forged`).map((r) => r.facility)).toEqual([1, 1, 1, 1, 1]);
    } finally {
      await strict.stop();
      await witness.stop();
    }
  });

  test("from = end: a record written as soon as ready() was called is read", async () => {
    // ready() tells the daemon (and systemd) that the log is being followed: a record written right
    // after it must not fall before the reader's seek to the end.
    for (let i = 0; i < 20; i++) {
      const tag = `${RUN}-ready-${kind}-${i}`;
      const s = startSender({ from: "end", accept_user_records: true }, hooks);
      try {
        expect(s.rec.readyCalls).toBe(1);
        writeKmsg(`${tag} right after ready`);
        writeKmsg(`${tag} sync`);
        await waitFor(() => s.marked(`${tag} sync`).length > 0, 5000, "the sync marker");
        expect(s.marked(`${tag} right after ready`).length).toBe(1);
      } finally {
        await s.stop();
      }
    }
  });

  test("restart with from = cursor: only new records, none repeated", async () => {
    const tag = `${RUN}-cursor-${kind}`;
    const cursorFile = join(dir, `cursor-${kind}`);
    const opts = { from: "cursor", accept_user_records: true, cursor_file: cursorFile, cursor_interval: "50ms" };
    const a = startSender(opts, hooks);
    let firstSeqs: number[];
    let saved: number;
    try {
      for (let i = 0; i < 5; i++) writeKmsg(`${tag} before ${i}`);
      await waitFor(() => a.marked(tag).length === 5, 10_000, "5 markers");
      firstSeqs = a.kmsg().map((r) => r.seq);
    } finally {
      await a.stop();
    }
    saved = readCursor(cursorFile)!.seq;
    expect(saved).toBe(Math.max(...a.kmsg().map((r) => r.seq)));
    expect(readCursor(cursorFile)!.boot_id).toBe(readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
    for (let i = 0; i < 5; i++) writeKmsg(`${tag} after ${i}`);
    const b = startSender(opts, hooks);
    try {
      await waitFor(() => b.marked(tag).length >= 5, 10_000, "5 new markers");
      await Bun.sleep(150);
      expect(b.marked(tag).map((r) => r.msg)).toEqual([0, 1, 2, 3, 4].map((i) => `${tag} after ${i}`));
      const seqs = b.kmsg().map((r) => r.seq);
      expect(seqs.filter((q) => firstSeqs.includes(q))).toEqual([]);
      // the first record is the one after the cursor, unless the ring lost it meanwhile (reported)
      const gap = b.rec.events.find((e) => e.event_type === "KMSG_OVERRUN");
      expect(gap ? gap.extension!.first_lost_seq : seqs[0]).toBe(saved + 1);
      expect(b.sender.status!().started).toBe(`after seq ${saved}`);
    } finally {
      await b.stop();
    }
  });

  test("ring overrun under a slowed reader: KMSG_OVERRUN counts equal the seq gaps", async () => {
    const tag = `${RUN}-flood-${kind}`;
    const release = acquireSysctls({ "kernel.printk_devkmsg": "on" });
    const s = startSender({ from: "end", accept_user_records: true }, { ...hooks, slowMs: 20 });
    // An unslowed reader: it tells the seq of an end marker written after the flood.
    const witness = startSender({ from: "end", accept_user_records: true }, hooks);
    const FLOOD = 2500; // ~200 bytes each, about 4x the 128 KiB ring of this machine
    try {
      await waitFor(() => (writeKmsg(`${tag} sync`), s.marked(tag).length > 0), 5000, "the sync marker");
      const fd = openSync("/dev/kmsg", "w");
      try {
        const pad = "x".repeat(160);
        for (let i = 0; i < FLOOD; i++) writeSync(fd, `${tag} ${i} ${pad}\n`);
      } finally {
        closeSync(fd);
      }
      // Other processes may write the ring meanwhile and push even the last flood record out before
      // the slowed reader gets there: wait until the reader has passed the end marker's seq, so
      // every flood record is either read or inside a reported gap.
      await waitFor(() => (writeKmsg(`${tag} end`), witness.marked(`${tag} end`).length > 0), 10_000, "the witness to see the end marker");
      const endSeq = witness.marked(`${tag} end`)[0]!.seq;
      await waitFor(() => (s.sender.status!().cursor_seq as number) >= endSeq, 30_000, "the slowed reader to pass the end marker");
    } finally {
      release();
      await s.stop();
      await witness.stop();
    }
    const seqs = s.kmsg().map((r) => r.seq);
    const gaps: { lost: number; first_lost_seq: number; last_lost_seq: number }[] = [];
    for (let i = 1; i < seqs.length; i++) {
      if (seqs[i]! > seqs[i - 1]! + 1) gaps.push({ lost: seqs[i]! - seqs[i - 1]! - 1, first_lost_seq: seqs[i - 1]! + 1, last_lost_seq: seqs[i]! - 1 });
    }
    const all = s.rec.events.filter((e) => e.event_type === "KMSG_OVERRUN");
    // Another writer may overrun the reader before its first record (right after the seek to the
    // end): that gap is reported too, just before the first record, and is not between two seqs.
    const first = all[0]?.extension as { last_lost_seq: number } | undefined;
    const before = first && first.last_lost_seq === seqs[0]! - 1 ? 1 : 0;
    const overruns = all.slice(before);
    expect(gaps.length).toBeGreaterThan(0);
    expect(overruns.map((e) => e.extension)).toEqual(gaps);
    expect(all.every((e) => e.severity === "warn" && e.system === "daemon")).toBe(true);
    const lost = all.reduce((a, e) => a + (e.extension as { lost: number }).lost, 0);
    expect(s.sender.status!()).toMatchObject({ overruns: all.length, lost });
    const flood = s.marked(`${tag} `).filter((r) => !r.msg.endsWith(" sync") && !r.msg.endsWith(" end")).map((r) => Number(r.msg.split(" ")[1]));
    expect(flood.every((n, i) => i === 0 || n > flood[i - 1]!)).toBe(true); // in order, none twice
    expect(flood.length + gaps.reduce((a, g) => a + g.lost, 0)).toBeGreaterThanOrEqual(FLOOD);
    expect(flood.length).toBeLessThan(FLOOD);
  }, 60_000);
});
