// replay's streamed input (pieces cut at record starts), its progress line on a terminal and its
// summary; --quiet silences both.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cutKmsg, cutLines, openInput, Progress } from "../src/cli/replay-io.ts";
import { BIN, runBin } from "./helpers/bin.ts";

const dir = mkdtempSync(join(tmpdir(), "perf15-replay-io-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const KMSG = [
  "3,100,5000000,-;sd 2:0:0:0: [sdb] tag#0 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_OK",
  " SUBSYSTEM=scsi",
  " DEVICE=+scsi:2:0:0:0",
  "6,101,5000100,-;EXT4-fs (sdb1): mounted filesystem",
  " SUBSYSTEM=block",
].join("\n") + "\n";

describe("replay input pieces", () => {
  test("cutKmsg never separates a record from its continuation lines; cutLines cuts after a newline", () => {
    const b = Buffer.from(KMSG);
    // Cut inside the first record's continuation lines: back to before the record.
    const inFirst = KMSG.indexOf(" DEVICE") + 3;
    expect(cutKmsg(b, inFirst)).toBe(0);
    // All of it read but the next byte unknown: the last record may still grow.
    expect(cutKmsg(b, b.length)).toBe(KMSG.indexOf("6,101"));
    expect(cutLines(b, inFirst)).toBe(KMSG.indexOf(" DEVICE"));
    expect(cutLines(b, 5)).toBe(0);
  });

  test("pieces of a file reassemble it exactly, records whole, with a tiny piece size", () => {
    const text = KMSG.repeat(50);
    const f = join(dir, "in.kmsg");
    writeFileSync(f, text);
    const input = openInput(f, 64);
    const pieces: string[] = [];
    for (const p of input.pieces(cutKmsg)) pieces.push(Buffer.from(p).toString());
    expect(pieces.join("")).toBe(text);
    expect(pieces.length).toBeGreaterThan(40);
    for (const p of pieces) expect(p.startsWith("3,100") || p.startsWith("6,101")).toBe(true);
    expect(input.done).toBe(text.length);
    expect(input.size).toBe(text.length);
  });
});

describe("replay progress", () => {
  test("the line shows MiB done of total, records, records/s, percent and ETA; end() clears it", () => {
    const out: string[] = [];
    const input = { size: 10 << 20, done: 5 << 20 };
    const p = new Progress(input, true, 0, (s) => void out.push(s));
    p.tick(1234567);
    p.end();
    expect(out[0]).toMatch(/^\rreplay: 5\.0 \/ 10\.0 MiB, 1,234,567 records, [\d,]+ records\/s, 50%, ETA \d+:\d\d\x1b\[K$/);
    expect(out.at(-1)).toBe("\r\x1b[K");
  });

  test("off (stderr not a terminal, or --quiet): no output", () => {
    const out: string[] = [];
    const p = new Progress({ size: 1, done: 1 }, false, 0, (s) => void out.push(s));
    p.tick(1);
    p.end();
    expect(out).toEqual([]);
  });

  const events2 = join(import.meta.dir, "drbd/streams/lifecycle.events2");

  test("binary on a terminal stderr (script(1)): progress line, then the summary; --quiet: nothing", async () => {
    const run = async (extra: string) => {
      const p = Bun.spawn(["script", "-qec", `${BIN} replay --events2 ${events2} --model ${extra} 2>&1 >/dev/null`, "/dev/null"], {
        stdout: "pipe", stderr: "pipe", stdin: "ignore",
      });
      const out = await new Response(p.stdout).text();
      expect(await p.exited).toBe(0);
      return out;
    };
    const shown = await run("");
    expect(shown).toMatch(/\rreplay: [\d.]+ \/ [\d.]+ MiB, [\d,]+ records, [\d,]+ records\/s, \d+%, ETA /);
    expect(shown).toMatch(/replay: \d+ records, \d+ events, [\d.]+ s, \d+ records\/s, peak RSS \d+ MiB/);
    expect(await run("--quiet")).toBe("");
  });

  test("binary with stderr not a terminal: the summary only; -q: nothing", async () => {
    const a = await runBin(["replay", "--events2", events2, "--model"]);
    expect(a.stderr).toMatch(/^replay: \d+ records, \d+ events, [\d.]+ s, \d+ records\/s, peak RSS \d+ MiB\n$/);
    const b = await runBin(["replay", "--events2", events2, "--model", "-q"]);
    expect(b.code).toBe(0);
    expect(b.stderr).toBe("");
    expect(b.stdout).toBe(a.stdout);
  });
});
