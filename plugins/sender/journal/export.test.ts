// The journalctl fallback's export decoder on a hand-made capture (testdata/three-entries.export):
// text and binary fields, entry boundaries across any chunking, and kernel entries skipped.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ExportDecoder, entryDaemon, DEFAULT_DAEMONS } from "../../../src/plugin-kit/readers.ts";

const capture = new Uint8Array(readFileSync(join(import.meta.dir, "testdata/three-entries.export")));

test("export format: three entries, a binary MESSAGE with a newline and an invalid byte, the same for any chunk size", () => {
  for (const size of [1, 7, 64, capture.length]) {
    const d = new ExportDecoder();
    const got = [];
    for (let i = 0; i < capture.length; i += size) got.push(...d.push(capture.subarray(i, i + size)));
    expect(got.map((f) => f.SYSLOG_IDENTIFIER)).toEqual(["smartd", "multipathd", "kernel"]);
    expect(got[0]!.MESSAGE).toBe("Device: /dev/sda [SAT], FAILED SMART self-check. BACK UP DATA NOW!");
    expect(got[0]!.__REALTIME_TIMESTAMP).toBe("1796612000123456");
    expect(got[1]!.MESSAGE).toBe("mpatha: remaining active paths: 1\nsecond line \uFFFD");
    const daemons = new Set<string>(DEFAULT_DAEMONS);
    expect(got.map((f) => entryDaemon(f, daemons) ?? null)).toEqual(["smartd", "multipathd", null]);
  }
});
