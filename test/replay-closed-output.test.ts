// `storeventd replay ... | head`: when the reader of the output goes away, replay stops reading its
// input and exits 0 with its summary saying so, not a parser warning per record and a stack trace.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "./helpers/bin.ts";

const dir = mkdtempSync(join(tmpdir(), "replay-closed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("replay --kmsg into a pipe closed early: stops, exit 0, one summary line that says the output was closed", () => {
  // 200k distinct buffer I/O errors (each an event): far more output than `head -c 100` takes.
  const lines: string[] = [];
  for (let i = 0; i < 200_000; i++) lines.push(`3,${i + 1},${1_000_000 + i * 100},-;Buffer I/O error on dev sdb1, logical block ${i}, async page read`);
  const file = join(dir, "k.kmsg");
  writeFileSync(file, lines.join("\n") + "\n");
  const r = Bun.spawnSync(["bash", "-c", `set -o pipefail; "$0" replay --kmsg "$1" --json | head -c 100 > /dev/null`, BIN, file], { stderr: "pipe" });
  const err = r.stderr.toString();
  expect(err).not.toContain("EPIPE");
  expect(err).not.toContain("failed on a record");
  const summary = err.trim().split("\n");
  expect(summary).toHaveLength(1);
  expect(summary[0]).toMatch(/^replay: (\d+) records, \d+ events \(stopped: the output was closed\)/);
  expect(Number(/^replay: (\d+) records/.exec(summary[0]!)![1])).toBeLessThan(200_000); // it stopped reading
  expect(r.exitCode).toBe(0);
});
