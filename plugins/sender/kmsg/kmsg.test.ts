// The kmsg sender over recorded files (testdata/): forwarding rules, counters, cursor, seq gaps.
// The real /dev/kmsg tests are in test/kmsg-device.test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import plugin, { createKmsgSender, readBootId, readCursor, schema, writeCursor } from "./index.ts";
import { makeContext } from "../../../test/helpers/context.ts";

const dir = mkdtempSync(join(tmpdir(), "kmsg-sender-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DEV_PRINTK = join(import.meta.dir, "testdata/dev-printk/input.kmsg");
let n = 0;

async function runOnFile(path: string, options: Record<string, unknown>, noNative: boolean, oldestHeld?: () => number | undefined) {
  const stateDir = join(dir, `state-${n++}`);
  const { ctx, rec } = makeContext({ stateDir, oldestHeld });
  const sender = createKmsgSender(v.parse(schema, { path, ...options }), ctx, { noNative });
  await sender.run(); // a regular file ends at EOF
  return { rec, status: sender.status!(), stateDir };
}

describe.each([["native", false], ["typescript", true]] as const)("kmsg sender (%s reader) on a recorded file", (kind, noNative) => {
  test("forwards kernel records in order, counts and skips user records, calls ready() once", async () => {
    const { rec, status } = await runOnFile(DEV_PRINTK, { from: "start" }, noNative);
    expect(rec.readyCalls).toBe(1);
    expect(rec.records.map((r) => r.kind === "kmsg" && r.seq)).toEqual([4120, 4121, 4122, 4123, 4124, 4125, 4126, 4127]);
    expect(status).toMatchObject({ reader: kind, records: 10, forwarded: 8, user_skipped: 2, bad: 0, cursor_seq: 4129 });
    expect(rec.counts.get("user_skipped")).toBe(2);
  });

  test("accept_user_records forwards user-facility records too", async () => {
    const { rec } = await runOnFile(DEV_PRINTK, { from: "start", accept_user_records: true }, noNative);
    expect(rec.records.length).toBe(10);
    expect(rec.records.at(-1)).toMatchObject({ facility: 1, seq: 4129, msg: "systemd[1]: a daemon record via syslog facility 1" });
  });

  test("maps ts_us to wall-clock time_us with one offset for all records", async () => {
    const { rec } = await runOnFile(DEV_PRINTK, { from: "start" }, noNative);
    const r = rec.records.map((x) => x as { ts_us: number; time_us?: number });
    const offset = r[0]!.time_us! - r[0]!.ts_us;
    for (const x of r) expect(x.time_us! - x.ts_us).toBe(offset);
    // the offset is the boot time: wall clock minus the time since boot (no suspend on a test host)
    const uptimeUs = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1e6;
    expect(Math.abs(offset - (Date.now() * 1000 - uptimeUs))).toBeLessThan(100_000);
  });

  test("counts malformed records and props, logs once per kind, forwards the good ones (a huge prefix is a user facility)", async () => {
    const { rec, status } = await runOnFile(join(import.meta.dir, "testdata/malformed/input.kmsg"), { from: "start" }, noNative);
    expect(status.bad).toBe(14);
    expect(rec.counts.get("bad_records")).toBe(14);
    expect(rec.counts.get("bad_props")).toBe(2);
    expect(rec.records.map((r) => r.kind === "kmsg" && r.seq)).toEqual([22, 9007199254740991, 31, 32, 33, 34, 37, 38, 39]);
    expect(rec.logs.filter((l) => l.includes("bad_number") || l.includes("(bad_number)")).length).toBe(1);
  });

  test("a seq gap emits KMSG_OVERRUN with the lost count and range", async () => {
    const path = join(dir, `gap-${kind}.kmsg`);
    writeFileSync(path, "6,1,10,-;a\n6,2,11,-;b\n6,7,12,-;c\n6,8,13,-;d\n6,10,14,-;e\n");
    const { rec, status } = await runOnFile(path, { from: "start" }, noNative);
    expect(rec.events.map((e) => [e.event_type, e.severity, e.system, e.extension])).toEqual([
      ["KMSG_OVERRUN", "warn", "daemon", { lost: 4, first_lost_seq: 3, last_lost_seq: 6 }],
      ["KMSG_OVERRUN", "warn", "daemon", { lost: 1, first_lost_seq: 9, last_lost_seq: 9 }],
    ]);
    expect(status).toMatchObject({ overruns: 2, lost: 5, forwarded: 5 });
  });

  test("from = cursor resumes after the saved seq of this boot; records gone meanwhile are reported", async () => {
    const cursor = join(dir, `cursor-${kind}.json`);
    writeCursor(cursor, { boot_id: readBootId(), seq: 4118 });
    const { rec, status } = await runOnFile(DEV_PRINTK, { from: "cursor", cursor_file: cursor }, noNative);
    expect(rec.records[0]).toMatchObject({ seq: 4120 });
    expect(rec.events.map((e) => e.extension)).toEqual([{ lost: 1, first_lost_seq: 4119, last_lost_seq: 4119 }]);
    expect(status.started).toBe("after seq 4118");
    expect(readCursor(cursor)).toEqual({ boot_id: readBootId(), seq: 4129 });

    writeCursor(cursor, { boot_id: readBootId(), seq: 4124 });
    const again = await runOnFile(DEV_PRINTK, { from: "cursor", cursor_file: cursor }, noNative);
    expect(again.rec.records.map((r) => r.kind === "kmsg" && r.seq)).toEqual([4125, 4126, 4127]);
    expect(again.rec.events).toEqual([]);
  });

  test("the cursor stays before the oldest record a parser still holds", async () => {
    const cursor = join(dir, `held-${kind}.json`);
    const { rec } = await runOnFile(DEV_PRINTK, { from: "start", cursor_file: cursor }, noNative, () => 4125);
    expect(rec.records.map((r) => r.kind === "kmsg" && r.seq)).toContain(4127); // read past the held one
    expect(readCursor(cursor)).toEqual({ boot_id: readBootId(), seq: 4124 });
    await runOnFile(DEV_PRINTK, { from: "start", cursor_file: cursor }, noNative, () => undefined);
    expect(readCursor(cursor)).toEqual({ boot_id: readBootId(), seq: 4129 });
  });

  test("from = cursor starts at the ring start when the cursor is of another boot", async () => {
    const cursor = join(dir, `oldboot-${kind}.json`);
    writeCursor(cursor, { boot_id: "00000000-0000-0000-0000-000000000000", seq: 4125 });
    const { rec, status } = await runOnFile(DEV_PRINTK, { from: "cursor", cursor_file: cursor }, noNative);
    expect(rec.records.length).toBe(8);
    expect(status.started).toBe("ring start (new boot)");
  });
});

describe("kmsg sender configuration", () => {
  test("defaults: /dev/kmsg, from cursor, kernel records only, cursor in state_dir", () => {
    const cfg = v.parse(schema, {});
    expect(cfg).toEqual({ path: "/dev/kmsg", from: "cursor", accept_user_records: false, cursor_file: "", cursor_interval: 1000 });
    const { ctx } = makeContext({ stateDir: join(dir, "defaults") });
    expect(plugin.create(cfg, ctx)).toMatchObject({});
    expect((plugin.create(cfg, ctx) as { status(): Record<string, unknown> }).status().cursor_file).toBe(join(dir, "defaults", "kmsg.cursor"));
  });

  test("rejects unknown options and values, and a missing device", () => {
    expect(() => v.parse(schema, { from: "middle" })).toThrow();
    expect(() => v.parse(schema, { bogus: 1 })).toThrow();
    const { ctx } = makeContext();
    expect(() => createKmsgSender(v.parse(schema, { path: join(dir, "nope") }), ctx)).toThrow(/ENOENT/);
  });

  test("the cursor file is replaced atomically and holds JSON seq + boot id", () => {
    const path = join(dir, "sub/atomic.cursor");
    writeCursor(path, { boot_id: "b", seq: 1 });
    writeCursor(path, { boot_id: "b", seq: 2 });
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ boot_id: "b", seq: 2 });
    expect(readCursor(join(dir, "missing"))).toBeUndefined();
    writeFileSync(join(dir, "garbage.cursor"), "{not json");
    expect(readCursor(join(dir, "garbage.cursor"))).toBeUndefined();
  });
});
