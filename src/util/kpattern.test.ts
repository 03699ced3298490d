import { describe, expect, test } from "bun:test";
import { HeldReports, MAX_KMSG_LEN, PatternTable, bitNames, decNum, hexNum, kmsgParser, lineParser } from "./kpattern.ts";
import type { EventDraft, KmsgRecord, RawRecord } from "../plugin-api.ts";

describe("PatternTable", () => {
  const table = new PatternTable([
    { id: "down", needle: "link down", re: /^(?<port>ata\d+): SATA link down/, source: "x.c", format: "f" },
    { id: "up", needle: "link up", re: /^(?<port>ata\d+): SATA link up (?<spd>[\d.]+ Gbps)/, source: "x.c", format: "f" },
  ] as const);

  test("match() returns the first pattern whose needle and regex match, with groups", () => {
    expect(table.match("ata3: SATA link up 6.0 Gbps (SStatus 133 SControl 300)")).toEqual({
      id: "up", groups: { port: "ata3", spd: "6.0 Gbps" },
    });
    expect(table.match("ata1: SATA link down (SStatus 0 SControl 300)")?.id).toBe("down");
  });

  test("match() skips a needle hit whose regex fails", () => {
    expect(table.match("xata3: SATA link down")).toBeUndefined();
    expect(table.mayMatch("xata3: SATA link down")).toBe(true);
    expect(table.mayMatch("nothing here")).toBe(false);
  });

  test("a gate skips messages before any needle or regex runs", () => {
    let calls = 0;
    const gated = new PatternTable([
      { id: "x", needle: "link", re: { exec: (m: string) => (calls++, /link/.exec(m)) } as unknown as RegExp, source: "", format: "" },
    ], (m) => m.startsWith("ata"));
    expect(gated.match("usb1: link")).toBeUndefined();
    expect(gated.mayMatch("usb1: link")).toBe(false);
    expect(calls).toBe(0);
    expect(gated.match("ata1: link")?.id).toBe("x");
  });

  test("constructor rejects duplicate ids and empty needles", () => {
    expect(() => new PatternTable([
      { id: "a", needle: "x", re: /x/, source: "", format: "" },
      { id: "a", needle: "y", re: /y/, source: "", format: "" },
    ])).toThrow(/twice/);
    expect(() => new PatternTable([{ id: "a", needle: "", re: /x/, source: "", format: "" }])).toThrow(/empty/);
  });
});

test("hexNum/decNum/bitNames decode kernel numbers", () => {
  expect(hexNum("0x1f")).toBe(31);
  expect(hexNum("80700")).toBe(0x80700);
  expect(hexNum("zz")).toBeUndefined();
  expect(decNum("-19")).toBe(-19);
  expect(decNum("12a")).toBeUndefined();
  expect(bitNames(0b1011, { 0: "a", 1: "b", 3: "d" })).toEqual(["a", "b", "d"]);
  expect(bitNames(1 << 7, {})).toEqual(["bit7"]);
});

describe("HeldReports", () => {
  test("expire() returns reports idle longer than maxAge, all when final", () => {
    let now = 0;
    const held = new HeldReports<{ records: string[] }>(1000, 10, () => now);
    held.open("a", { records: ["1"] });
    now = 600;
    held.open("b", { records: ["2"] });
    now = 1200;
    expect(held.expire(false).map((r) => r.records[0])).toEqual(["1"]);
    expect(held.expire(true).map((r) => r.records[0])).toEqual(["2"]);
    expect(held.size).toBe(0);
  });

  test("open() hands back the report it replaces and evicts beyond maxHeld", () => {
    const held = new HeldReports<{ records: string[] }>(1000, 2, () => 0);
    expect(held.open("a", { records: ["a1"] })).toEqual([]);
    expect(held.open("a", { records: ["a2"] })).toEqual([{ records: ["a1"] }]);
    held.open("b", { records: ["b"] });
    expect(held.open("c", { records: ["c"] })).toEqual([{ records: ["a2"] }]);
    expect(held.take("b")).toEqual({ records: ["b"] });
    expect(held.get("b")).toBeUndefined();
  });
});

describe("kmsgParser + lineParser", () => {
  const table = new PatternTable([{ id: "up", needle: "link up", re: /^(?<port>ata\d+): SATA link up/, source: "", format: "" }]);
  const counts = new Map<string, number>();
  const logged: string[] = [];
  const ctx = { count: (n: string, k = 1) => void counts.set(n, (counts.get(n) ?? 0) + k), log: { once: (kind: string) => void logged.push(kind) } };
  const parser = kmsgParser(ctx, lineParser(table, (id, g, rec, msg) => ({
    severity: "info", system: "ata", event_type: "ATA_LINK_UP", msg: `${g.port} ${id}`, raw: msg, time_us: rec.time_us,
  })));
  const kmsg = (msg: string): KmsgRecord => ({ kind: "kmsg", source: "kmsg", priority: 6, facility: 0, seq: 1, ts_us: 1, flags: "-", msg, props: {}, raw: msg, time_us: 7 });

  test("parses kmsg records, ignores other kinds, skips and counts oversize and NUL messages once-logged", () => {
    const out: EventDraft[] = [];
    const emit = (d: EventDraft) => void out.push(d);
    expect(parser.accepts).toEqual(["kmsg"]);
    parser.parse(kmsg("ata3: SATA link up 6.0 Gbps (SStatus 133 SControl 300)"), emit);
    parser.parse({ kind: "uevent", source: "udev", action: "add", devpath: "/x", props: {}, origin: "kernel", raw: "ata3: SATA link up" } as RawRecord, emit);
    parser.parse(kmsg("ata3: SATA link up" + " ".repeat(MAX_KMSG_LEN)), emit);
    parser.parse(kmsg("ata3: SATA link up\0"), emit);
    parser.parse(kmsg("ata4: SATA link up\0 again"), emit);
    parser.flush!(emit, true);
    expect(out).toEqual([{ severity: "info", system: "ata", event_type: "ATA_LINK_UP", msg: "ata3 up", raw: "ata3: SATA link up 6.0 Gbps (SStatus 133 SControl 300)", time_us: 7 }]);
    expect([...counts]).toEqual([["records_oversize", 1], ["records_nul", 2]]);
    expect(logged).toEqual(["oversize", "nul", "nul"]);
  });
});
