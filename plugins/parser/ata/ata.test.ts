import { expect, test } from "bun:test";
import { join } from "node:path";
import plugin from "./index.ts";
import { ATA_TABLE, AtaParser } from "./ata.ts";
import { parserSuite, readKmsgFixture } from "../../../test/helpers/parser-fixtures.ts";
import type { EventDraft } from "../../../src/plugin-api.ts";

parserSuite({ plugin, dir: import.meta.dir, patterns: ATA_TABLE.patterns, hostile: ["ata1: SATA link down (SStatus 0 SControl 300)"] });

test("AtaParser holds an exception report until the port moves on, then emits it once", () => {
  const recs = readKmsgFixture(
    "3,1,1,-;ata4: exception Emask 0x10 SAct 0x0 SErr 0x10000 action 0xe frozen\n" +
    "3,2,2,-;ata4: SError: { PHYRdyChg }\n" +
    "6,3,3,-;ata5: hard resetting link\n" +
    "6,4,4,-;ata4: hard resetting link\n");
  const state = new AtaParser(1000, () => 0);
  const out: EventDraft[] = [];
  for (const r of recs) state.parse(r, r.msg, (d) => void out.push(d));
  expect(out.length).toBe(1);
  expect(out[0]!.raw).toBe([recs[0]!.raw, recs[1]!.raw].join("\n"));
  expect(out[0]!.extension).toMatchObject({ emask_names: ["ATA bus error"], serr_names: ["PHYRdyChg"], action_names: ["softreset", "hardreset", "enable_link"] });
  expect(out[0]!.severity).toBe("warn");
});

test("a cmd/res line with a real newline (decoder unescaped \\x0a) still joins the report", () => {
  const state = new AtaParser(1000, () => 0);
  const out: EventDraft[] = [];
  const [a] = readKmsgFixture("3,1,1,-;ata1.00: exception Emask 0x0 SAct 0x0 SErr 0x0 action 0x6 frozen\n");
  state.parse(a!, a!.msg, (d) => void out.push(d));
  const msg = "ata1.00: cmd ea/00:00:00:00:00/00:00:00:00:00/a0 tag 0\n         res 40/00:00:00:00:00/00:00:00:00:00/a0 Emask 0x4 (timeout)";
  state.parse({ ...a!, msg }, msg, (d) => void out.push(d));
  state.flush((d) => void out.push(d), true);
  expect(out[0]!.extension!.commands).toEqual([{ device: "ata1.00", taskfile: "ea/00:00:00:00:00/00:00:00:00:00/a0", tag: 0, result: "40/00:00:00:00:00/00:00:00:00:00/a0", emask: 4, emask_text: "timeout", ncq_failed: false }]);
  expect(out[0]!.severity).toBe("error");
});
