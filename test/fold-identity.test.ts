// Fold identity: events fold when their raw kernel text is identical, so a parser's msg must not
// carry variable data the raw text lacks (else two events the fold merges would differ in msg).
// Over every parser fixture: each number in msg occurs in the event's raw kernel text.
import { expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { expectedEvents, fixtureCases } from "./helpers/parser-fixtures.ts";

const PARSERS = join(import.meta.dir, "../plugins/parser");
const KMSG_HEADER = /(^|\n)\d{1,10},\d{1,20},\d{1,20},[^;\n]{0,64};/g;

test("msg holds no number that the raw kernel text lacks", () => {
  const bad: string[] = [];
  let checked = 0;
  for (const p of readdirSync(PARSERS, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    const testdata = join(PARSERS, p.name, "testdata");
    if (!existsSync(testdata)) continue;
    for (const c of fixtureCases(testdata)) {
      for (const e of expectedEvents(join(testdata, c))) {
        const raw = (e.raw ?? "").replace(KMSG_HEADER, "$1").toLowerCase();
        // Constant names ("raid4/5/6") and the mount point looked up for the device are no kernel numbers.
        const msg = e.msg.replace(/raid4\/5\/6/g, "").replace(/ \(\/[^)]*\)/g, "");
        for (const n of msg.match(/\b(?:0x)?[0-9a-f]*\d[0-9a-f]*\b/gi) ?? []) {
          checked++;
          if (!raw.includes(n.toLowerCase())) bad.push(`${p.name}/${c}: ${n} in "${e.msg}"`);
        }
      }
    }
  }
  expect(checked).toBeGreaterThan(100);
  expect(bad).toEqual([]);
});
