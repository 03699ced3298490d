import { expect, test } from "bun:test";
import { join } from "node:path";
import plugin from "./index.ts";
import { ATA_TABLE, AtaParser } from "./ata.ts";
import { parserSuite, readKmsgFixture } from "../../../test/helpers/parser-fixtures.ts";
import type { EventDraft } from "../../../src/plugin-api.ts";

parserSuite({ plugin, dir: import.meta.dir, patterns: ATA_TABLE.patterns, hostile: ["ata1: SATA link down (SStatus 0 SControl 300)"] });

test("AtaParser holds an exception report through error handling until EH complete, then emits it once", () => {
  const recs = readKmsgFixture(
    "3,1,1,-;ata4: exception Emask 0x10 SAct 0x0 SErr 0x10000 action 0xe frozen\n" +
    "3,2,2,-;ata4: SError: { PHYRdyChg }\n" +
    "6,3,3,-;ata5: hard resetting link\n" +
    "6,4,4,-;ata4: hard resetting link\n" +
    "6,5,5,-;ata4: SATA link up 6.0 Gbps (SStatus 133 SControl 300)\n" +
    "6,6,6,-;ata4: EH complete\n");
  const state = new AtaParser(1000, () => 0);
  const out: EventDraft[] = [];
  for (const [i, r] of recs.entries()) {
    state.parse(r, r.msg, (d) => void out.push(d));
    expect(out.length).toBe(i === 5 ? 1 : 0);
  }
  // ata5's line is another port's; the link coming back up is part of ata4's report.
  expect(out[0]!.raw).toBe([recs[0]!.raw, recs[1]!.raw, recs[3]!.raw, recs[4]!.raw, recs[5]!.raw].join("\n"));
  expect(out[0]!.extension).toMatchObject({
    emask_names: ["ATA bus error"], serr_names: ["PHYRdyChg"], action_names: ["softreset", "hardreset", "enable_link"], link_after_reset: "up 6.0 Gbps",
  });
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
  // A timed-out FLUSH is retried after the reset: warn (plugins/parser/README.md severity table).
  expect(out[0]!.severity).toBe("warn");
});
