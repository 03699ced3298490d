// journald receiver: encoding units, and entries read back from a real systemd-journald run by the
// test in its own journal namespace (so it never touches the host's /run/systemd/journal/socket).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import * as v from "valibot";
import { JOURNALD, startJournalNamespace, type JournalNamespace } from "../../../test/helpers/journald.ts";
import { need, rootAnd } from "../../../test/helpers/need.ts";
import { checkSampleAndReadme, makeEvent, receiverContext, schemaErrors } from "../../../test/helpers/receiver.ts";
import plugin, { JournaldReceiver } from "./index.ts";
import { decodeFields, encodeFields, eventFields, fieldName, messageId } from "./encode.ts";
import { messageIdTable, tableTypes, withTable } from "./message-ids.ts";
import type { StorageEvent } from "../../../src/plugin-api.ts";

const dir = import.meta.dir;

describe("journald encoding", () => {
  test("encodeFields() uses KEY=value, and the length form for values with newlines, binary-safe", () => {
    const fields: [string, string][] = [["A", "plain"], ["B", "two\nlines"], ["C", "nul\0byte é"], ["D", ""]];
    const buf = encodeFields(fields);
    expect(buf.subarray(0, 8).toString()).toBe("A=plain\n");
    expect(buf.subarray(8, 10).toString()).toBe("B\n");
    expect(buf.readBigUInt64LE(10)).toBe(9n);
    expect(decodeFields(buf)).toEqual(fields);
  });

  test("fieldName() follows journald's field-name rules", () => {
    expect(fieldName("sense_key", "STOREVENTD_EXT_")).toBe("STOREVENTD_EXT_SENSE_KEY");
    expect(fieldName("mount-point/x.y", "STOREVENTD_EXT_")).toBe("STOREVENTD_EXT_MOUNT_POINT_X_Y");
    expect(fieldName("1abc")).toBe("ABC");
    expect(fieldName("__")).toBe("X");
    const long = fieldName("k".repeat(100), "STOREVENTD_EXT_");
    expect(long.length).toBe(64);
    expect(long).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  test("messageId() is stable, distinct per type of the README's table, 32 hex digits, UUIDv8", () => {
    const types = tableTypes(readFileSync(`${dir}/README.md`, "utf8"));
    expect(types.length).toBeGreaterThan(50);
    const ids = types.map(messageId);
    expect(new Set(ids).size).toBe(types.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}8[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    expect(messageId("DM_MPATH_PATH_DOWN")).toBe(messageId("DM_MPATH_PATH_DOWN"));
  });

  test("the README's MESSAGE_ID table holds messageId() of each type it lists (test/docs.test.ts checks the list)", () => {
    const readme = readFileSync(`${dir}/README.md`, "utf8");
    const types = tableTypes(readme);
    expect(withTable(readme, types)).toBe(readme);
    expect(readme).toContain(messageIdTable(types));
    expect(readme).toContain(`| \`DRBD_SPLIT_BRAIN\` | \`${messageId("DRBD_SPLIT_BRAIN")}\` |`);
  });

  test("eventFields() maps severities to priorities and extension keys to STOREVENTD_EXT_*", () => {
    const e = makeEvent({ severity: "warn", extension: { "asc-q": 3, text: "a" } });
    const f = Object.fromEntries(eventFields(e));
    expect(f.PRIORITY).toBe("4");
    expect(f.STOREVENTD_EXT_ASC_Q).toBe("3");
    expect(f.STOREVENTD_EXT_TEXT).toBe("a");
    expect(JSON.parse(f.STOREVENTD_JSON!)).toEqual(e);
  });

  test("eventFields() of the SCSI sense fixture gives the hand-written fields", () => {
    const e = JSON.parse(readFileSync(`${dir}/testdata/scsi-sense.json`, "utf8"));
    const want = JSON.parse(readFileSync(`${dir}/testdata/scsi-sense.fields.json`, "utf8"));
    const got = Object.fromEntries(eventFields(e));
    expect(got.MESSAGE_ID).toBe(messageId("SCSI_SENSE"));
    expect(JSON.parse(got.STOREVENTD_JSON!)).toEqual(e);
    delete got.MESSAGE_ID;
    delete got.STOREVENTD_JSON;
    expect(got).toEqual(want);
  });

  test("without the addon: <priority> lines on stderr, logged once, counted", async () => {
    const { ctx, rec } = receiverContext();
    const r = new JournaldReceiver(v_parse({}), { ...ctx, native: null });
    const written: string[] = [];
    const orig = process.stderr.write;
    process.stderr.write = ((chunk: string) => (written.push(chunk), true)) as typeof process.stderr.write;
    try {
      await r.send([makeEvent({ msg: "two\nlines" }), makeEvent({ severity: "info", event_type: "DAEMON_STARTED", system: "daemon", dev_name: "", msg: "up" })]);
      await r.send([makeEvent({ severity: "warn", dev_name: "sdb", msg: "w" })]);
    } finally {
      process.stderr.write = orig;
    }
    expect(written.join("").split("\n").filter(Boolean)).toEqual([
      "<3>DM_MPATH_PATH_DOWN sdc: two lines", "<6>DAEMON_STARTED: up", "<4>DM_MPATH_PATH_DOWN sdb: w",
    ]);
    expect(rec.counts.get("fallback")).toBe(3);
    expect(rec.logs.filter((l) => l.includes("addon not loaded"))).toHaveLength(1);
  });

  test("sample.toml validates and equals the README's Configuration block", () => {
    checkSampleAndReadme(plugin, dir);
  });

  test("schema rejects relative or too long socket paths and bad durations", () => {
    expect(schemaErrors(plugin, { path: "run/journal" })[0]).toContain("absolute");
    expect(schemaErrors(plugin, { path: "/" + "x".repeat(120) })[0]).toContain("107");
    expect(schemaErrors(plugin, { timeout: "soon" })[0]).toContain("duration");
    expect(schemaErrors(plugin, { pth: "/x" })[0]).toContain("pth");
    expect(schemaErrors(plugin, {})).toEqual([]);
  });
});

// ---- against a real journald ----

let jd: JournalNamespace;
let socket = "";
let journald: JournalNamespace["proc"] | undefined;

async function readBack(id: string): Promise<Record<string, unknown> | undefined> {
  return (await jd.entries([`STOREVENTD_EVENT_ID=${id}`])).pop();
}

function expectEntryMatches(entry: Record<string, unknown> | undefined, e: StorageEvent): void {
  expect(entry).toBeDefined();
  const want = Object.fromEntries(eventFields(e));
  for (const [k, val] of Object.entries(want)) expect([k, entry![k]]).toEqual([k, val]);
  expect(JSON.parse(entry!.STOREVENTD_JSON as string)).toEqual(e);
}

describe("journald receiver against a real systemd-journald", () => {
  beforeAll(async () => {
    need(rootAnd(JOURNALD));
    jd = await startJournalNamespace();
    socket = jd.socket;
    journald = jd.proc;
  });
  afterAll(async () => {
    await jd?.stop();
  });

  test("every field of an entry reads back with journalctl, including multi-line values", async () => {
    const { ctx, rec } = receiverContext();
    const r = new JournaldReceiver(v_parse({ path: socket }), ctx);
    const a = makeEvent();
    const b = makeEvent({
      severity: "info", system: "scsi", event_type: "SCSI_SENSE", dev_name: "sdb", owners: [],
      msg: "sense: Medium Error\nsecond line", raw: "sd 2:0:0:1: [sdb] tag#0 Sense Key : Medium Error [current]\nsd 2:0:0:1: [sdb] tag#0 Add. Sense: Unrecovered read error",
      extension: { sense_key: "Medium Error", asc: 0x11, "odd key!": { nested: [1, 2] }, quote: "a'b\"c$(x)" },
    });
    await r.send([a, b]);
    expect(rec.counts.get("sent")).toBe(2);
    const ea = await readBack(a.event_id);
    expectEntryMatches(ea, a);
    expect(ea!.PRIORITY).toBe("3");
    expect(ea!.SYSLOG_IDENTIFIER).toBe("storeventd");
    const eb = await readBack(b.event_id);
    expectEntryMatches(eb, b);
    expect(eb!.MESSAGE).toBe("sense: Medium Error\nsecond line");
    expect(eb!.STOREVENTD_EXT_ODD_KEY).toBe('{"nested":[1,2]}');
    expect(eb!.PRIORITY).toBe("6");
  });

  test("the SCSI sense fixture reads back with the hand-written fields", async () => {
    const { ctx } = receiverContext();
    const r = new JournaldReceiver(v_parse({ path: socket }), ctx);
    const e = JSON.parse(readFileSync(`${dir}/testdata/scsi-sense.json`, "utf8"));
    await r.send([e]);
    const entry = await readBack(e.event_id);
    const want = JSON.parse(readFileSync(`${dir}/testdata/scsi-sense.fields.json`, "utf8"));
    for (const [k, val] of Object.entries(want)) expect([k, entry?.[k]]).toEqual([k, val]);
    expect(entry?.MESSAGE_ID).toBe(messageId("SCSI_SENSE"));
  });

  test("journalctl MESSAGE_ID=<id> finds the event type's entries", async () => {
    const { ctx } = receiverContext();
    const r = new JournaldReceiver(v_parse({ path: socket }), ctx);
    const e = makeEvent({ event_type: "FS_REMOUNT_RO", system: "fs", dev_name: "dm-7" });
    await r.send([e]);
    await readBack(e.event_id);
    const ids = (await jd.entries([`MESSAGE_ID=${messageId("FS_REMOUNT_RO")}`])).map((x) => x.STOREVENTD_EVENT_ID);
    expect(ids).toEqual([e.event_id]);
  });

  test("a 1 MiB entry goes through a memfd; a 70 KiB one as a datagram; both read back whole", async () => {
    const { ctx, rec } = receiverContext();
    const r = new JournaldReceiver(v_parse({ path: socket }), ctx);
    const big = makeEvent({ raw: "R".repeat(512 * 1024) + "\nend", msg: "big " + "m".repeat(512 * 1024) });
    const mid = makeEvent({ raw: "x".repeat(70 * 1024) });
    await r.send([big]);
    expect(rec.counts.get("memfd")).toBe(1);
    await r.send([mid]);
    expect(rec.counts.get("memfd")).toBe(1);
    expect(rec.counts.get("sent")).toBe(2);
    expectEntryMatches(await readBack(big.event_id), big);
    expectEntryMatches(await readBack(mid.event_id), mid);
  });

  test("a stopped journald (full socket queue): EAGAIN is retried without blocking, then counted; it recovers", async () => {
    const { ctx, rec } = receiverContext();
    const r = new JournaldReceiver(v_parse({ path: socket, timeout: "300ms" }), ctx);
    journald!.kill("SIGSTOP");
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10); // runs only if send() yields the event loop
    const t0 = performance.now();
    try {
      await r.send(Array.from({ length: 1500 }, (_, i) => makeEvent({ msg: `flood ${i}` })));
    } finally {
      clearInterval(ticker);
      journald!.kill("SIGCONT");
    }
    const ms = performance.now() - t0;
    expect(rec.counts.get("retries")).toBeGreaterThan(0);
    expect(rec.counts.get("errors")).toBeGreaterThan(0);
    expect((rec.counts.get("sent") ?? 0) + (rec.counts.get("errors") ?? 0)).toBe(1500);
    expect(ms).toBeLessThan(3000);
    expect(ticks).toBeGreaterThan(5);
    // journald reads its queue again; the next event goes through at once.
    const e = makeEvent({ msg: "after SIGCONT" });
    for (let i = 0; i < 50 && !rec.counts.get("sent_after"); i++) {
      await r.send([e]);
      if (r.status().down === false) rec.counts.set("sent_after", 1);
      else await Bun.sleep(100);
    }
    expectEntryMatches(await readBack(e.event_id), e);
  });

  test("a journald that is not there: bounded retries, errors counted, send() returns", async () => {
    const { ctx, rec } = receiverContext();
    const r = new JournaldReceiver(v_parse({ path: `/run/systemd/journal.${jd.ns}-absent/socket`, timeout: "300ms" }), ctx);
    const t0 = performance.now();
    await r.send([makeEvent(), makeEvent()]);
    const first = performance.now() - t0;
    await r.send([makeEvent()]);
    const second = performance.now() - t0 - first;
    expect(rec.counts.get("errors")).toBe(3);
    expect(rec.counts.get("retries")).toBeGreaterThan(0);
    expect(first).toBeLessThan(2000);
    expect(second).toBeLessThan(50); // marked down: one attempt each
    expect(r.status().down).toBe(true);
  });
});

function v_parse(o: Record<string, unknown>) {
  return v.parse(plugin.schema, o);
}
