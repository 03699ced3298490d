// The one fixture framework for kernel-log parser plugins. Each plugins/parser/<name>/testdata/<case>/
// holds input.kmsg (raw /dev/kmsg records, `pri,seq,ts,flags;msg` plus ` KEY=value` lines; "#" lines
// are notes naming the kernel source), optionally input.uevent (`udevadm monitor --kernel --property`
// text) and config.json, a sources.txt or "#" notes naming where every line comes from, and
// expected.ndjson: the events written from the kernel format strings or the capture, reviewed by
// hand. It is a golden (test/helpers/golden.ts): never written by a test run, missing = failure.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import type { AnyPluginDef, EventDraft, KmsgRecord, Parser, RawRecord, UeventRecord } from "../../src/plugin-api.ts";
import { decodeKmsgText } from "../../src/kmsg/decode.ts";
import { decodeUeventFile } from "../../src/uevent/parse.ts";
import { makeContext, type Recorded } from "./context.ts";
import { golden } from "./golden.ts";

/** Wall clock of boot for fixture timestamps: 2026-01-01T00:00:00Z. */
export const FIXTURE_BOOT_US = 1_767_225_600_000_000;

function stripNotes(text: string): string {
  return text.split("\n").filter((l) => !l.startsWith("#")).join("\n");
}

/** Records of a fixture through the daemon's own decoder, placed on the fixture clock. */
export function readKmsgFixture(text: string, source = "kmsg"): KmsgRecord[] {
  const recs = [...decodeKmsgText(stripNotes(text), source)];
  for (const r of recs) r.time_us ??= FIXTURE_BOOT_US + r.ts_us;
  return recs;
}

/** uevents of a fixture through the daemon's own decoder, placed on the fixture clock. */
export function readUeventFixture(text: string): UeventRecord[] {
  const decoded = [...decodeUeventFile(new TextEncoder().encode(stripNotes(text)), "udev")];
  for (const r of decoded) {
    // udevadm's "KERNEL[5123.457102]" is monotonic seconds.
    const ts = /^(?:KERNEL|UDEV)\s*\[(\d+\.\d+)\]/.exec(r.raw)?.[1];
    if (ts !== undefined) r.time_us ??= FIXTURE_BOOT_US + Math.round(Number(ts) * 1e6);
  }
  return decoded;
}

export interface CaseInput {
  name: string;
  dir: string;
  records: RawRecord[];
  config: Record<string, unknown>;
}

/** Case folders under testdata (sorted). */
export function fixtureCases(testdata: string): string[] {
  return readdirSync(testdata, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** One case with its kmsg and uevent records merged in time order (kmsg first on ties). */
export function loadCase(testdata: string, name: string): CaseInput {
  const dir = join(testdata, name);
  const at = (f: string) => join(dir, f);
  const kmsg = existsSync(at("input.kmsg")) ? readKmsgFixture(readFileSync(at("input.kmsg"), "utf8")) : [];
  const uevent = existsSync(at("input.uevent")) ? readUeventFixture(readFileSync(at("input.uevent"), "utf8")) : [];
  // One stream in time order, as the daemon would read it (kmsg first on ties).
  const records: RawRecord[] = [...kmsg, ...uevent]
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r.time_us ?? 0) - (b.r.time_us ?? 0) || a.i - b.i)
    .map((x) => x.r);
  const config = existsSync(at("config.json")) ? JSON.parse(readFileSync(at("config.json"), "utf8")) : {};
  for (const [k, val] of Object.entries(config)) {
    if (typeof val === "string" && val.startsWith("./")) config[k] = join(dir, val.slice(2));
  }
  return { name, dir, records, config };
}

export function loadCases(testdata: string): CaseInput[] {
  return fixtureCases(testdata).map((n) => loadCase(testdata, n));
}

export async function makeParser(def: AnyPluginDef, config: Record<string, unknown> = {}, over = {}): Promise<{ parser: Parser; rec: Recorded }> {
  const { ctx, rec } = makeContext(over);
  const parsed = v.parse(def.schema, config);
  const parser = (await def.create(parsed as never, ctx)) as Parser;
  return { parser, rec };
}

/** Runs records through a parser (those of a kind it accepts) and returns what it emitted, after a final flush. */
export function runParser(parser: Parser, records: Iterable<RawRecord>): EventDraft[] {
  const out: EventDraft[] = [];
  const emit = (d: EventDraft) => void out.push(d);
  for (const r of records) if (parser.accepts.includes(r.kind)) parser.parse(r, emit);
  parser.flush?.(emit, true);
  return out;
}

const KEY_ORDER = [
  "severity", "system", "event_type", "dev_name", "dev_path", "dev_wwid", "owners", "msg", "extension", "time_us", "raw", "source",
];

/** JSON with drafts' keys in EventDraft order (unknown keys last), one per line. */
export function toNdjson(drafts: EventDraft[]): string {
  const rank = (k: string) => (KEY_ORDER.includes(k) ? KEY_ORDER.indexOf(k) : KEY_ORDER.length);
  const ordered = drafts.map((d) =>
    Object.fromEntries(Object.entries(d).filter(([, val]) => val !== undefined).sort(([a], [b]) => rank(a) - rank(b))),
  );
  return ordered.map((d) => JSON.stringify(d)).join("\n") + (drafts.length ? "\n" : "");
}

/** The expected events of a case (its golden expected.ndjson), parsed. */
export function expectedEvents(caseDir: string): EventDraft[] {
  const file = join(caseDir, "expected.ndjson");
  if (!existsSync(file)) throw new Error(`missing golden ${file}`);
  return readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as EventDraft);
}

/** Every message line (records split at embedded newlines) in all cases' kmsg inputs. */
export function allFixtureMessages(testdata: string, filter: (c: string) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const c of loadCases(testdata)) {
    if (!filter(c.name)) continue;
    for (const r of c.records) if (r.kind === "kmsg") out.push(r.msg, ...r.msg.split(/\n|\\x0a/));
  }
  return out;
}

/** Hostile records: a 10 MB line, invalid UTF-8 (decoded as U+FFFD), NUL bytes, truncated lines. */
export function hostileRecords(prefixes: string[]): KmsgRecord[] {
  const mk = (msg: string, i: number): KmsgRecord => ({
    kind: "kmsg", source: "kmsg", priority: 3, facility: 0, seq: 9000 + i, ts_us: 1000 + i, flags: "-", msg, props: {},
    time_us: FIXTURE_BOOT_US + 1000 + i, raw: `3,${9000 + i},${1000 + i},-;${msg.slice(0, 200)}`,
  });
  const big = "x".repeat(10 * 1024 * 1024);
  const bad = new TextDecoder().decode(new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1]));
  const msgs: string[] = [big, bad, "\0\0\0", ""];
  for (const p of prefixes) {
    msgs.push(p + big, p + bad, p + "\0" + p, p.slice(0, Math.max(1, p.length - 3)), p, p + " ".repeat(100_000) + "(");
  }
  return msgs.map(mk);
}

export interface SuiteOptions {
  plugin: AnyPluginDef;
  /** The plugin folder (import.meta.dir of its test). */
  dir: string;
  patterns: readonly { id: string; re: RegExp }[];
  /** Message prefixes that lead into each pattern, for the hostile-input test. */
  hostile: string[];
  /** Context overrides (e.g. a DeviceDirectory with mountOf) for fixture cases. */
  context?: Record<string, unknown>;
  /** False when near-miss lines may match a pattern and the parser's state rules them out (fs). */
  nearMissHitsNone?: boolean;
}

/** The tests every kernel-log parser plugin shares: fixtures against their goldens, near misses,
 * pattern coverage, hostile input (sample.toml and README are checked by test/compliance.test.ts). */
export function parserSuite(o: SuiteOptions): void {
  const testdata = join(o.dir, "testdata");
  const name = o.plugin.name;
  describe(`${name} parser fixtures`, () => {
    for (const c of loadCases(testdata)) {
      test(`testdata/${c.name} -> expected.ndjson`, async () => {
        expect(c.records.length).toBeGreaterThan(0);
        const named = existsSync(join(c.dir, "sources.txt")) || readFileSync(join(c.dir, "input.kmsg"), "utf8").startsWith("#");
        expect({ case: c.name, sources_named: named }).toEqual({ case: c.name, sources_named: true });
        const { parser } = await makeParser(o.plugin, c.config, o.context);
        const actual = toNdjson(runParser(parser, c.records));
        const want = golden(join(c.dir, "expected.ndjson"), actual);
        const lines = (t: string) => t.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
        expect(lines(actual)).toEqual(lines(want));
        // A near-miss case expects no event; every other case expects some.
        expect(actual === "").toBe(c.name.startsWith("near-miss"));
      });
    }

    test("every pattern has a fixture line that hits it; near-miss lines hit none", () => {
      const msgs = allFixtureMessages(testdata, (c) => !c.startsWith("near-miss"));
      expect(o.patterns.filter((p) => !msgs.some((m) => p.re.test(m))).map((p) => p.id)).toEqual([]);
      if (o.nearMissHitsNone === false) return;
      // testdata/near-miss holds lines that only look like ours; other near-miss-* cases are
      // matching lines that their context rules out (a CDB without its report).
      const near = allFixtureMessages(testdata, (c) => c === "near-miss");
      expect(near.length).toBeGreaterThan(3);
      const hits = near.flatMap((m) => o.patterns.filter((p) => p.id !== "hexdump" && p.re.test(m)).map((p) => `${p.id}: ${m}`));
      expect(hits).toEqual([]);
    });
  });

  describe(`${name} parser hostile input`, () => {
    test("a 10 MB line, invalid UTF-8, NUL bytes and truncated lines: no throw, nothing invalid passed on", async () => {
      const { parser, rec } = await makeParser(o.plugin, {}, o.context);
      const recs = hostileRecords(o.hostile);
      const out = runParser(parser, recs);
      // A truncated line can still be a well-formed kernel message; invalid text never becomes an event.
      const invalid = new Set(recs.filter((r) => /\0|\ufffd/.test(r.msg) || r.msg.length > 8192).map((r) => String(r.seq)));
      for (const d of out) {
        expect(JSON.stringify(d)).not.toMatch(/\\u0000|\ufffd|x{1000}/);
        const seqs = [...(d.raw ?? "").matchAll(/(?:^|\n)\d+,(\d+),/g)].map((m) => m[1]!);
        expect(seqs.filter((q) => invalid.has(q))).toEqual([]);
      }
      // Each clean prefix is at most one event (a full line), every hostile variant none.
      expect(out.length).toBeLessThanOrEqual(o.hostile.length);
      expect(rec.counts.get("records_oversize") ?? 0).toBeGreaterThan(0);
      expect(rec.logs.some((l) => l.startsWith("once: skipping a kmsg record of"))).toBe(true);
    });
  });
}
