// The drbd sender's `replay --events2` contribution: every way it reads (the native reader thread on
// a file, the native tokenizer on pieces, the TypeScript tokenizer) hands on each line of the capture
// once, in order, and the model's fast lane gets exactly the statistics lines when it takes them.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import plugin from "./index.ts";
import type { Events2Record, NativeAddon, ReplaySource } from "../../../src/plugin-api.ts";
import { nativeAddon } from "../../../src/plugin-kit/readers.ts";
import { decodeEvents2Batch } from "../../../src/plugin-kit/drbd.ts";
import { need } from "../../../test/helpers/need.ts";
import { initialDump, makeResource, statisticsRound } from "../../../test/helpers/drbd-cluster.ts";

const rs = [makeResource("web", 1000, 2, ["alpha", "beta"]), makeResource("db", 1010, 1, ["alpha"])];
// A dump, two statistics rounds (what `n` prints), a role change between them.
// Half the statistics with drbdsetup's --timestamps prefix (the record's time_us).
const stamp = (l: string, i: number) => (i % 2 ? `2026-11-26T00:30:36.${String(i).padStart(6, "0")}+01:00 ${l}` : l);
const lines = [...initialDump(rs), ...statisticsRound(rs, 1).map(stamp), "change resource name:db role:Primary", ...statisticsRound(rs, 2)];
const text = lines.join("\n") + "\n";
const isStats = (l: string) => /^(\S+[+-]\d\d:\d\d )?change (peer-)?device /.test(l);
const dir = mkdtempSync(join(tmpdir(), "drbd15c-replay-"));
const file = join(dir, "capture.events2");
writeFileSync(file, text);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  raws: string[];
  recs: Events2Record[];
  taken: number;
  ticks: number;
}

/** Runs the contribution over the capture; `fd`: hand it the file's fd; `fast`: a lane that takes
 * every line it is offered. Pieces are cut small (4 KiB) so that a capture spans several. */
async function run(addon: NativeAddon | null, fd: boolean, fast: boolean): Promise<Run> {
  const out: Run = { raws: [], recs: [], taken: 0, ticks: 0 };
  const bytes = Buffer.from(text);
  const src: ReplaySource = {
    addon,
    takeFd: () => (fd ? openSync(file, "r") : null),
    *pieces(cut) {
      for (let at = 0; at < bytes.length;) {
        const len = Math.min(4096, bytes.length - at);
        const end = at + len === bytes.length ? len : cut(bytes.subarray(at, at + len), len);
        yield bytes.subarray(at, at + end);
        at += end;
      }
    },
    emit: (r) => {
      out.recs.push(r as Events2Record);
      out.raws.push(r.raw);
    },
    events2Fast: () => (fast ? { apply: () => true, taken: (n) => void (out.taken += n) } : null),
    tick: () => void out.ticks++,
  };
  await plugin.replay!.stream!(src);
  return out;
}

describe("drbd sender: replay --events2 input", () => {
  test("declares the events2 input, streamed", () => {
    expect(plugin.replay?.input).toBe("events2");
    expect(typeof plugin.replay?.stream).toBe("function");
    expect(plugin.replay?.decode).toBeUndefined();
  });

  const addon = nativeAddon();
  for (const [name, fd] of [["native reader thread on the file's fd", true], ["native tokenizer on pieces", false]] as const) {
    test(`${name}: every line once, in order, as an events2 record of source drbd`, async () => {
      need({ "the addon's Events2Reader and Events2Tokenizer": !!addon?.Events2Reader && !!addon?.Events2Tokenizer });
      const r = await run(addon, fd, false);
      expect(r.raws).toEqual(lines);
      // The reader packs no tokens of a statistics line (lean): the records are still those of the
      // one-shot tokenizer, which packs every token of every line.
      const whole: Events2Record[] = [];
      decodeEvents2Batch(...addon!.events2Tokenize!(Buffer.from(text)), "drbd", (x) => whole.push(x), () => {});
      expect(r.recs).toEqual(whole);
      expect(r.recs.filter((x) => x.time_us === Date.UTC(2026, 10, 25, 23, 30, 36) * 1000 + 1).length).toBe(1);
      expect(r.recs[0]).toMatchObject({ kind: "events2", source: "drbd", verb: "exists", object: "resource", fields: { name: "web" } });
      expect(r.taken).toBe(0);
      expect(r.ticks).toBeGreaterThan(0);
    });

    test(`${name}: the fast lane takes the statistics lines, the rest goes the full way`, async () => {
      need({ "the addon's Events2Reader and Events2Tokenizer": !!addon?.Events2Reader && !!addon?.Events2Tokenizer });
      const r = await run(addon, fd, true);
      const stats = lines.filter(isStats);
      expect(stats.length).toBeGreaterThan(10);
      // A line announcing a name the lane has not seen yet is also decoded (to learn the name), then taken.
      expect(r.taken).toBe(stats.length);
      expect(r.raws.filter((l) => !isStats(l))).toEqual(lines.filter((l) => !isStats(l)));
    });
  }

  test("without the addon: the TypeScript tokenizer, every line once, in order", async () => {
    const r = await run(null, true, true);
    expect(r.raws).toEqual(lines);
    expect(r.taken).toBe(0);
    expect(r.recs.at(-1)).toMatchObject({ verb: "change", object: "peer-device" });
  });
});
