// The events2 tokenizer: literal drbdsetup lines, near-misses, hostile input, and the native
// tokenizer against its TypeScript twin on every fixture and a large generated stream.
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  decodeEvents2Batch, decodeEvents2Text, parseEvents2Timestamp, tokenizeEvents2, tokenizeEvents2Line,
} from "../../src/drbd/events2.ts";
import { nativeAddon } from "../../src/native.ts";
import type { Events2Record } from "../../src/records.ts";
import { initialDump, makeResource, statisticsRound } from "../helpers/drbd-cluster.ts";
import { need } from "../helpers/need.ts";

const streams = join(import.meta.dir, "streams");

describe("tokenizeEvents2Line()", () => {
  // Lines as drbd-utils prints them (tests/v9/events2-*.test in LINBIT/drbd-utils).
  test("splits verb, object and fields; values keep their colons", () => {
    const rec = tokenizeEvents2Line(
      "change path name:some-resource peer-node-id:1 conn-name:some-peer local:ipv4:1.2.3.4:7789 peer:ipv4:5.6.7.8:7790 established:yes",
    )!;
    expect(rec.verb).toBe("change");
    expect(rec.object).toBe("path");
    expect(rec.fields).toEqual({
      name: "some-resource", "peer-node-id": "1", "conn-name": "some-peer", local: "ipv4:1.2.3.4:7789",
      peer: "ipv4:5.6.7.8:7790", established: "yes",
    });
    expect(rec.time_us).toBeUndefined();
  });

  test("exists - ends the initial dump; helper call/response lines", () => {
    expect(tokenizeEvents2Line("exists -")).toMatchObject({ verb: "exists", object: "-", fields: {} });
    const r = tokenizeEvents2Line(
      "response helper name:some-resource peer-node-id:1 conn-name:some-peer volume:0 helper:before-resync-target status:1",
    )!;
    expect(r).toMatchObject({ verb: "response", object: "helper" });
    expect(r.fields.helper).toBe("before-resync-target");
    expect(r.fields.status).toBe("1");
  });

  test("--timestamps prefix becomes time_us (drbdsetup_events2.c format_timestamp)", () => {
    const rec = tokenizeEvents2Line("2026-11-26T01:30:36.123456+01:00 change resource name:r0 role:Primary")!;
    expect(rec.time_us).toBe(Date.UTC(2026, 10, 26, 0, 30, 36) * 1000 + 123456);
    expect(rec.verb).toBe("change");
    expect(parseEvents2Timestamp("2026-11-26T01:30:36.123456-00:30")).toBe(Date.UTC(2026, 10, 26, 2, 0, 36) * 1000 + 123456);
  });

  test("unknown keys are kept, a later key wins, bare tokens are skipped", () => {
    const rec = tokenizeEvents2Line("exists resource xxx:bla name:foo role:Primary bare :novalue role:Secondary")!;
    expect(rec.fields).toEqual({ xxx: "bla", name: "foo", role: "Secondary" });
  });

  test("near-misses are garbage, not records", () => {
    for (const line of ["xxx resource name:foo", "Exists resource name:foo", "change", "2026-11-26T01:30:36.123456+01:00",
      "drbdsetup: unknown command", "# No currently configured DRBD found."]) {
      const t = tokenizeEvents2(line);
      expect(t && !t.ok).toBe(true);
    }
    expect(tokenizeEvents2("")).toBeNull();
    expect(tokenizeEvents2("  \t\r")).toBeNull();
  });

  test("hostile input: NUL bytes, invalid UTF-8, a 10 MB line", () => {
    expect(tokenizeEvents2("change resource name:r\0 role:Primary")).toMatchObject({ ok: false, reason: "NUL byte" });
    const bad = new TextDecoder().decode(new Uint8Array([0x63, 0x68, 0x61, 0x6e, 0x67, 0x65, 0x20, 0x72, 0x20, 0x6e, 0x3a, 0xff, 0xfe]));
    expect(tokenizeEvents2Line(bad)!.fields.n).toBe("\ufffd\ufffd");
    const huge = "change resource name:r0 role:" + "P".repeat(10 << 20);
    expect(tokenizeEvents2Line(huge)!.fields.role!.length).toBe(10 << 20);
  });
});

function nativeDecode(buf: Buffer, maxLine?: number): { recs: Events2Record[]; garbage: string[] } {
  const addon = nativeAddon()!;
  const [bytes, ends, nums] = addon.events2Tokenize!(buf, maxLine);
  const recs: Events2Record[] = [];
  const garbage: string[] = [];
  decodeEvents2Batch(bytes, ends, nums, "drbd", (r) => recs.push(r), (g) => garbage.push(`${g.reason}|${g.raw}`));
  return { recs, garbage };
}

function tsDecode(text: string): { recs: Events2Record[]; garbage: string[] } {
  const recs: Events2Record[] = [];
  const garbage: string[] = [];
  for (const line of text.split("\n")) {
    const t = tokenizeEvents2(line);
    if (!t) continue;
    if (t.ok) recs.push(t.rec);
    else garbage.push(`${t.reason}|${t.raw}`);
  }
  return { recs, garbage };
}

describe("native events2 tokenizer vs TypeScript twin", () => {
  beforeAll(() => need({ "the addon's events2Tokenize (npm install builds it)": Boolean(nativeAddon()?.events2Tokenize) }));
  test("identical records on every fixture stream", () => {
    const files = readdirSync(streams).filter((f) => f.endsWith(".events2"));
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) {
      const buf = readFileSync(join(streams, f));
      const n = nativeDecode(buf);
      const t = tsDecode(buf.toString("utf8"));
      expect(n.recs.length).toBeGreaterThan(10);
      expect(n).toEqual(t);
    }
  });

  test("identical records on a large generated stream with hostile lines mixed in", () => {
    const rs = Array.from({ length: 200 }, (_, i) => makeResource(`res${i}`, 1000 + i * 4, 1 + (i % 3), ["a", "b"], 0));
    const lines = initialDump(rs);
    for (let step = 1; step <= 20; step++) lines.push(...statisticsRound(rs, step));
    const hostile = [
      "2026-02-30T25:61:61.999999-23:59 change resource name:r role:Primary", "0000-00-00T00:00:00.000000+00:00 exists -",
      "9999-99-99T99:99:99.999999+99:99 exists -", "change\tresource\tname:tab  role:x\r", "\r", ":::: ::", "call",
      "change resource name:\0nul", "rename resource name:a new_name:b", "change r\u00e9source name:\u00fc key:\u{1F600}",
      "destroy - -", "exists - x:y:z",
    ];
    for (let i = 0; i < hostile.length; i++) lines.splice(37 * (i + 1), 0, hostile[i]!);
    const text = lines.join("\n") + "\nchange resource name:tail-without-newline role:Primary";
    const bytes = Buffer.concat([Buffer.from(text), Buffer.from([0x0a, 0x63, 0x61, 0x6c, 0x6c, 0x20, 0xc3, 0x28, 0x20, 0x6b, 0x3a, 0xe2, 0x82, 0x0a])]);
    const n = nativeDecode(bytes);
    const t = tsDecode(bytes.toString("utf8"));
    expect(n.recs.length).toBeGreaterThan(10000);
    expect(n.garbage.map((g) => g.split("|")[0])).toEqual(["unknown verb", "missing object", "NUL byte"]);
    expect(n).toEqual(t);
  });

  test("a line over maxLine is garbage ('line too long'); the next line still parses", () => {
    const buf = Buffer.from(`change resource name:r0 role:${"P".repeat(5000)}\nexists -\n`);
    const n = nativeDecode(buf, 1024);
    expect(n.garbage).toHaveLength(1);
    expect(n.garbage[0]!.startsWith("line too long|change resource")).toBe(true);
    expect(n.recs.map((r) => r.raw)).toEqual(["exists -"]);
  });

  test("Events2Reader tokenises a pipe on its thread and reports eof", async () => {
    const addon = nativeAddon()!;
    const [r, w] = addon.pipe();
    const text = readFileSync(join(streams, "lifecycle.events2"));
    const recs: Events2Record[] = [];
    const done = new Promise<string>((resolve) => {
      const reader = new addon.Events2Reader!(r);
      reader.start((bytes, ends, nums, _lost, err) => {
        decodeEvents2Batch(bytes, ends, nums, "drbd", (x) => recs.push(x), () => {});
        if (err) {
          reader.close();
          resolve(err);
        }
      });
    });
    const file = Bun.file(`/proc/self/fd/${w}`);
    await Bun.write(file, text);
    addon.closeFd(w);
    expect(await done).toBe("eof");
    expect(recs).toEqual([...decodeEvents2Text(text.toString())]);
  });
});
