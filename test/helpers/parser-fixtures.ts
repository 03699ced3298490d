// Fixture walker for kernel-log parser plugins: each plugins/parser/<name>/testdata/<case>/ holds
// input.kmsg (raw /dev/kmsg records, `pri,seq,ts,flags;msg` plus ` KEY=value` lines) and
// expected.ndjson (the exact EventDrafts). `UPDATE=1 bun test ...` rewrites expected.ndjson.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import type { AnyPluginDef, EventDraft, KmsgRecord, Parser } from "../../src/plugin-api.ts";
import type { PatternTable } from "../../src/util/kpattern.ts";
import { decodeKmsgText } from "../../src/kmsg/decode.ts";
import { makeContext, type Recorded } from "./context.ts";

/** Wall clock of boot for fixtures whose decoder leaves time_us empty: 2026-01-01T00:00:00Z. */
export const FIXTURE_BOOT_US = 1_767_225_600_000_000;

/** Records of a fixture (or of a /dev/kmsg read) through the shared decoder, with fixture wall-clock times. */
export function readKmsgFixture(text: string, source = "kmsg"): KmsgRecord[] {
  const recs = [...decodeKmsgText(text, source)];
  for (const r of recs) r.time_us ??= FIXTURE_BOOT_US + r.ts_us;
  return recs;
}

export async function makeParser(def: AnyPluginDef, options: Record<string, unknown> = {}): Promise<{ parser: Parser; rec: Recorded }> {
  const { ctx, rec } = makeContext();
  const config = v.parse(def.schema, options);
  const parser = (await def.create(config, ctx)) as Parser;
  return { parser, rec };
}

export function runRecords(parser: Parser, records: Iterable<KmsgRecord>): EventDraft[] {
  const out: EventDraft[] = [];
  const emit = (d: EventDraft) => void out.push(d);
  for (const r of records) parser.parse(r, emit);
  parser.flush?.(emit, true);
  return out;
}

/** Case folders under dir (sorted). */
export function fixtureCases(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** One bun test per testdata case: drafts equal expected.ndjson (UPDATE=1 rewrites it). */
export function describeFixtures(def: AnyPluginDef, dir: string): void {
  describe(`${def.name} parser fixtures`, () => {
    for (const name of fixtureCases(dir)) {
      test(`testdata/${name} gives expected.ndjson`, async () => {
        const caseDir = join(dir, name);
        const { parser } = await makeParser(def);
        const got = runRecords(parser, readKmsgFixture(readFileSync(join(caseDir, "input.kmsg"), "utf8")));
        const file = join(caseDir, "expected.ndjson");
        const text = got.map((d) => JSON.stringify(d)).join("\n") + (got.length ? "\n" : "");
        if (process.env.UPDATE === "1") writeFileSync(file, text);
        expect(existsSync(file)).toBe(true);
        const want = readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
        expect(JSON.parse(JSON.stringify(got))).toEqual(want);
      });
    }
  });
}

/** Every pattern of the table is hit by at least one fixture line, and near-miss lines hit none. */
export function describeCoverage(table: PatternTable, dir: string): void {
  test("every pattern of the table has a fixture line that hits it", () => {
    const hit = new Set<string>();
    for (const name of fixtureCases(dir)) {
      if (name.startsWith("near-miss")) continue;
      for (const r of readKmsgFixture(readFileSync(join(dir, name, "input.kmsg"), "utf8"))) {
        const m = table.match(r.msg);
        if (m) hit.add(m.id);
      }
    }
    expect(table.patterns.map((p) => p.id).filter((id) => !hit.has(id))).toEqual([]);
  });
  test("testdata/near-miss* lines hit no pattern", () => {
    const cases = fixtureCases(dir).filter((n) => n.startsWith("near-miss"));
    expect(cases.length).toBeGreaterThan(0);
    for (const name of cases) {
      const recs = readKmsgFixture(readFileSync(join(dir, name, "input.kmsg"), "utf8"));
      expect(recs.length).toBeGreaterThan(3);
      for (const r of recs) expect({ msg: r.msg, hit: table.match(r.msg)?.id }).toEqual({ msg: r.msg, hit: undefined });
    }
  });
}

/** Hostile records: a 10 MB line, invalid UTF-8 escapes, NUL bytes, truncated lines and continuations. */
export function hostileRecords(sample: string): KmsgRecord[] {
  const mk = (seq: number, msg: string, props: Record<string, string> = {}): KmsgRecord => ({
    kind: "kmsg", source: "kmsg", priority: 3, facility: 0, seq, ts_us: seq * 1000, flags: "-", msg, props,
    time_us: FIXTURE_BOOT_US + seq * 1000, raw: `3,${seq},${seq * 1000},-;${msg}`,
  });
  return [
    mk(1, sample + "x".repeat(10 * 1024 * 1024)),
    mk(2, "x".repeat(10 * 1024 * 1024) + sample),
    mk(3, sample.replace(/ /g, "\\xff\\xfe ")),
    mk(4, sample.slice(0, Math.floor(sample.length / 2))),
    mk(5, sample.slice(0, 7)),
    mk(6, sample.replace(" ", "\0 ")),
    mk(7, "\0".repeat(64)),
    mk(8, ""),
    mk(9, "\uFFFD\uFFFD" + sample.slice(3)),
    mk(10, sample.slice(0, -1) + "\\x", { SUBSYSTEM: "scsi", DEVICE: "+scsi:2:0:0:1\\x" }),
  ];
}

/**
 * The tests every kernel-log parser plugin shares: fixture cases, table coverage, near-misses,
 * sample.toml vs README and schema, and hostile records (no throw, no event, counted).
 */
export function describeParserPlugin(def: AnyPluginDef, table: PatternTable, dir: string, hostileSample: string): void {
  describeFixtures(def, dir);
  describeCoverage(table, dir);
  describe(`${def.name} plugin`, () => {
    test("sample.toml validates with the schema and equals the README's Configuration block", async () => {
      const { parse } = await import("smol-toml");
      const tables = parse(def.sample!) as Record<string, Record<string, unknown>>;
      const { type, ...opts } = tables[def.name]!;
      expect(type).toBe("parser");
      v.parse(def.schema, opts);
      expect(() => v.parse(def.schema, { ...opts, no_such_option: 1 })).toThrow();
      const readme = readFileSync(join(dir, "..", "README.md"), "utf8");
      expect(readme).toContain("## Configuration\n\n```toml\n" + def.sample!.trim() + "\n```");
    });
    test("the hostile sample itself is parsed (so the hostile test below is meaningful)", async () => {
      const { parser } = await makeParser(def);
      const [r] = readKmsgFixture(`3,1,1,-;${hostileSample}\n`);
      expect(table.match(r!.msg)).toBeDefined();
      expect(runRecords(parser, [r!]).length).toBeGreaterThan(0);
    });
    test("hostile records (10 MB, invalid UTF-8, NUL, truncated) throw nothing, emit nothing, are counted", async () => {
      const { parser, rec } = await makeParser(def);
      expect(runRecords(parser, hostileRecords(hostileSample))).toEqual([]);
      expect(rec.counts.get("records_oversize")).toBe(2);
      expect(rec.counts.get("records_nul")).toBe(2);
      expect(rec.logs.filter((l) => l.startsWith("once:")).length).toBe(2);
    });
  });
}
