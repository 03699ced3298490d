import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import * as v from "valibot";
import plugin from "./index.ts";
import { SCSI_TABLE, ScsiParser } from "./scsi.ts";
import { ascCode, ascText, senseKeyNumber } from "./sense.ts";
import { parserSuite, readKmsgFixture } from "../../../test/helpers/parser-fixtures.ts";
import type { EventDraft } from "../../../src/plugin-api.ts";

const dir = join(import.meta.dir, "testdata");
parserSuite({ plugin, dir: import.meta.dir, patterns: SCSI_TABLE.patterns, hostile: ["sd 2:0:0:1: [sdb] Attached SCSI disk"] });

describe("scsi parser", () => {
  test("report_hold must be a duration", () => {
    expect(v.parse(plugin.schema, {})).toEqual({}); // default: [main] hold_max
    expect(v.parse(plugin.schema, { report_hold: "250ms" })).toEqual({ report_hold: 250 });
    expect(() => v.parse(plugin.schema, { report_hold: "soon" })).toThrow();
  });

  test("a report is held past its CDB line for the block layer's line, then emitted once with all records in raw", () => {
    const recs = readKmsgFixture(
      "6,1,1,-;sd 2:0:0:1: [sdb] tag#1 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK cmd_age=0s\n" +
      "6,2,2,-;sd 2:0:0:1: [sdb] tag#1 Sense Key : Medium Error [current] \n" +
      "6,3,3,-;sd 2:0:0:1: [sdb] tag#1 Add. Sense: Unrecovered read error\n" +
      "6,4,4,-;sd 2:0:0:1: [sdb] tag#1 CDB: Read(10) 28 00 00 00 00 08 00 00 08 00\n");
    const state = new ScsiParser(1000);
    const out: EventDraft[] = [];
    for (const r of recs) {
      state.parse(r, r.msg, (d) => void out.push(d));
      expect(out.length).toBe(0);
    }
    state.flush((d) => void out.push(d), true);
    expect(out.length).toBe(1);
    expect(out[0]!.raw!.split("\n")).toEqual(recs.map((r) => r.raw));
    expect(out[0]!.msg).toBe("Medium Error / Unrecovered read error on Read(10)");
    expect(out[0]!.extension).toMatchObject({ sense_key: 3, asc: 0x11, ascq: 0, lba: 8, blocks: 8 });
  });

  test("flush() emits a stale incomplete report only after report_hold, and all when final", () => {
    let now = 0;
    const state = new ScsiParser(1000, () => now);
    const out: EventDraft[] = [];
    const emit = (d: EventDraft) => void out.push(d);
    const [r] = readKmsgFixture("6,1,1,-;sd 2:0:0:0: [sda] Sense Key : Not Ready [current] \n");
    state.parse(r!, r!.msg, emit);
    now = 900;
    state.flush(emit, false);
    expect(out).toEqual([]);
    now = 1001;
    state.flush(emit, false);
    expect(out.map((d) => d.event_type)).toEqual(["SCSI_SENSE"]);
    state.parse(r!, r!.msg, emit);
    state.flush(emit, true);
    expect(out.length).toBe(2);
  });

  test("sense tables map kernel text to codes both ways", () => {
    expect(senseKeyNumber("Medium Error")).toBe(3);
    expect(senseKeyNumber("0xa")).toBe(10);
    expect(senseKeyNumber("Bogus")).toBeUndefined();
    expect(ascCode("Unrecovered read error")).toEqual({ asc: 0x11, ascq: 0 });
    expect(ascText(0x3a, 0)).toBe("Medium not present");
  });
});

test("a held report keeps at most 64 records however many CDB[xx] lines arrive", () => {
  const state = new ScsiParser(1000, () => 0);
  const out: EventDraft[] = [];
  const lines = ["6,1,1,-;sd 2:0:0:1: [sdb] tag#1 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK cmd_age=0s", "6,2,2,-;sd 2:0:0:1: [sdb] tag#1 CDB: Write(32)"];
  for (let i = 0; i < 1000; i++) lines.push(`6,${i + 3},${i + 3},-;sd 2:0:0:1: [sdb] tag#1 CDB[10]: 00 00 00 00`);
  for (const r of readKmsgFixture(lines.join("\n") + "\n")) state.parse(r, r.msg, (d) => void out.push(d));
  state.flush((d) => void out.push(d), true);
  expect(out.length).toBe(1);
  expect(out[0]!.raw!.split("\n").length).toBe(64);
  expect((out[0]!.extension!.cdb as string).split(" ").length).toBe(62 * 4);
});
