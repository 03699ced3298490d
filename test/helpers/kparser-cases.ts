// Fixture cases for kernel-log parser plugins: testdata/<case>/{input.kmsg, input.uevent?,
// config.json?, expected.ndjson}. input.kmsg holds raw /dev/kmsg records ("pri,seq,ts,flags;msg"
// plus " KEY=value" continuation lines); "#" lines are notes naming the kernel source of the next
// line. input.uevent holds uevents as `udevadm monitor --kernel --property` prints them. Both are
// merged by time into one stream. UPDATE=1 rewrites expected.ndjson.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import type { AnyPluginDef, EventDraft, KmsgRecord, Parser, RawRecord, UeventRecord } from "../../src/plugin-api.ts";
import { decodeKmsgText } from "../../src/kmsg/decode.ts";
import { decodeUeventFile } from "../../src/uevent/parse.ts";
import { makeContext, type Recorded } from "./context.ts";

/** Wall-clock µs of boot for fixture timestamps: 2026-11-26T00:00:00Z. */
export const FIXTURE_BOOT_US = Date.UTC(2026, 10, 26) * 1000;

function stripNotes(text: string): string {
  return text.split("\n").filter((l) => !l.startsWith("#")).join("\n");
}

/** Minimal /dev/kmsg record reader, used until src/kmsg/decode.ts yields records. */
function readKmsgLocal(text: string): KmsgRecord[] {
  const out: KmsgRecord[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+),(\d+),(\d+),([^;]*);(.*)$/s.exec(line);
    if (m) {
      const pri = Number(m[1]);
      out.push({
        kind: "kmsg", source: "kmsg", priority: pri & 7, facility: pri >> 3, seq: Number(m[2]), ts_us: Number(m[3]),
        flags: m[4]!, msg: m[5]!, props: {}, raw: line,
      });
    } else if (line.startsWith(" ") && out.length) {
      const last = out.at(-1)!;
      const eq = line.indexOf("=");
      if (eq > 1) last.props[line.slice(1, eq)] = line.slice(eq + 1);
      last.raw += "\n" + line;
    }
  }
  return out;
}

/** Minimal `udevadm monitor --kernel --property` reader, used until src/uevent/parse.ts yields records. */
function readUeventLocal(text: string): UeventRecord[] {
  const out: UeventRecord[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    const head = /^KERNEL\[(\d+\.\d+)\]\s+(\S+)\s+(\S+)/.exec(lines[0] ?? "");
    if (!head) continue;
    const props: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const eq = l.indexOf("=");
      if (eq > 0) props[l.slice(0, eq)] = l.slice(eq + 1);
    }
    out.push({
      kind: "uevent", source: "udev", action: head[2]!, devpath: head[3]!, props, origin: "kernel",
      time_us: FIXTURE_BOOT_US + Math.round(Number(head[1]) * 1e6), raw: lines.join("\n"),
    });
  }
  return out;
}

export function readKmsgFixture(text: string): KmsgRecord[] {
  const clean = stripNotes(text);
  let recs = [...decodeKmsgText(clean, "kmsg")];
  if (recs.length === 0) recs = readKmsgLocal(clean);
  for (const r of recs) r.time_us = FIXTURE_BOOT_US + r.ts_us;
  return recs;
}

export function readUeventFixture(text: string): UeventRecord[] {
  const clean = stripNotes(text);
  const decoded = [...decodeUeventFile(new TextEncoder().encode(clean), "udev")];
  if (!decoded.length) return readUeventLocal(clean);
  for (const r of decoded) {
    // udevadm's "KERNEL[5123.457102]" is monotonic seconds: place the uevent on the fixture clock.
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

/** Every case under `testdata`, with its records merged in time order (kmsg first on ties). */
export function loadCases(testdata: string): CaseInput[] {
  return readdirSync(testdata, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const dir = join(testdata, name);
      const at = (f: string) => join(dir, f);
      const kmsg = existsSync(at("input.kmsg")) ? readKmsgFixture(readFileSync(at("input.kmsg"), "utf8")) : [];
      const uevent = existsSync(at("input.uevent")) ? readUeventFixture(readFileSync(at("input.uevent"), "utf8")) : [];
      const records: RawRecord[] = [...kmsg, ...uevent]
        .map((r, i) => ({ r, i }))
        .sort((a, b) => (a.r.time_us ?? 0) - (b.r.time_us ?? 0) || a.i - b.i)
        .map((x) => x.r);
      const config = existsSync(at("config.json")) ? JSON.parse(readFileSync(at("config.json"), "utf8")) : {};
      for (const [k, val] of Object.entries(config)) {
        if (typeof val === "string" && val.startsWith("./")) config[k] = join(dir, val.slice(2));
      }
      return { name, dir, records, config };
    });
}

export async function makeParser(def: AnyPluginDef, config: Record<string, unknown>, over = {}): Promise<{ parser: Parser; rec: Recorded }> {
  const { ctx, rec } = makeContext(over);
  const parsed = v.parse(def.schema, config);
  const parser = (await def.create(parsed as never, ctx)) as Parser;
  return { parser, rec };
}

/** Runs records through a parser and returns what it emitted, after a final flush. */
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

/** Compares against expected.ndjson (or rewrites it with UPDATE=1); returns [actual, expected]. */
export function checkExpected(dir: string, drafts: EventDraft[]): [string, string] {
  const actual = toNdjson(drafts);
  const file = join(dir, "expected.ndjson");
  if (process.env.UPDATE === "1" || !existsSync(file)) writeFileSync(file, actual);
  return [actual, readFileSync(file, "utf8")];
}

/** Every message line (records split at embedded newlines) in all cases' kmsg inputs. */
export function allFixtureMessages(testdata: string): string[] {
  const out: string[] = [];
  for (const c of loadCases(testdata)) {
    for (const r of c.records) if (r.kind === "kmsg") out.push(...r.msg.split(/\n|\\x0a/));
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
}

/** The tests every kernel-log parser plugin shares: fixtures, near misses, pattern coverage,
 * hostile input (sample.toml and README are checked by test/compliance.test.ts). */
export function parserSuite(o: SuiteOptions): void {
  const testdata = join(o.dir, "testdata");
  const name = o.plugin.name;
  describe(`${name} parser fixtures`, () => {
    for (const c of loadCases(testdata)) {
      test(`testdata/${c.name} -> expected.ndjson`, async () => {
        const { parser } = await makeParser(o.plugin, c.config, o.context);
        const [actual, expected] = checkExpected(c.dir, runParser(parser, c.records));
        expect(actual).toBe(expected);
        if (c.name.startsWith("near-miss")) expect(actual).toBe("");
        else expect(actual).not.toBe("");
      });
    }

    test("every pattern has a fixture line that hits it", () => {
      const msgs = allFixtureMessages(testdata);
      const missing = o.patterns.filter((p) => !msgs.some((m) => p.re.test(m))).map((p) => p.id);
      expect(missing).toEqual([]);
    });
  });

  describe(`${name} parser hostile input`, () => {
    test("a 10 MB line, invalid UTF-8, NUL bytes and truncated lines: no throw, nothing invalid passed on", async () => {
      const { parser, rec } = await makeParser(o.plugin, {}, o.context);
      const out = runParser(parser, hostileRecords(o.hostile));
      // A truncated line can still be a well-formed kernel message; invalid text never becomes an event.
      for (const d of out) expect(JSON.stringify(d)).not.toMatch(/\\u0000|\ufffd|x{1000}/);
      expect(out.length).toBeLessThan(o.hostile.length);
      expect(rec.counts.get("records_oversize") ?? 0).toBeGreaterThan(0);
      expect(rec.logs.some((l) => l.startsWith("once: skipping a kmsg record of"))).toBe(true);
    });
  });
}
