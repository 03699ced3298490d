// replay --model prints the status in pieces (statusJsonPieces): joined, they must be exactly what
// JSON.stringify(toStatusJson(), null, 2) plus a newline prints, whatever the piece size.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeEvents2Text } from "../../src/drbd/events2.ts";
import { DrbdModel } from "../../src/drbd/model.ts";
import { statusJsonPieces } from "../../src/drbd/views.ts";
import { initialDump, makeResource } from "../helpers/drbd-cluster.ts";

function modelOf(lines: string[]): DrbdModel {
  const m = new DrbdModel();
  for (const l of lines) for (const r of decodeEvents2Text(l)) m.apply(r, () => {});
  return m;
}

describe("statusJsonPieces", () => {
  const fixture = readFileSync(join(import.meta.dir, "streams/lifecycle.events2"), "utf8").split("\n");
  const generated = initialDump(Array.from({ length: 40 }, (_, i) => makeResource(`p${i}`, 100 + i * 4, 1 + (i % 3), i % 2 ? ["alpha", "beta"] : ["alpha"])));
  for (const [name, lines] of [["lifecycle.events2", fixture], ["40 generated resources", generated], ["no resource", []]] as const) {
    test(`${name}: the pieces join to JSON.stringify(status, null, 2) + newline`, () => {
      const m = modelOf([...lines]);
      const want = JSON.stringify(m.toStatusJson(), null, 2) + "\n";
      for (const size of [1, 500, 1 << 16]) {
        const pieces = [...statusJsonPieces(m.resources(), size)];
        expect(pieces.join("")).toBe(want);
        for (const p of pieces) expect(p.endsWith("\n")).toBe(true);
        if (size === 1) expect(pieces.length).toBe(Math.max(1, m.resources().length));
      }
    });
  }
});
