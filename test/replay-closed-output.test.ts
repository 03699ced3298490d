// `storeventd replay ... | head`: when the reader of the output goes away, replay stops reading its
// input and exits 0 with its summary saying so. (Before, every parser logged EPIPE per record and
// replay never ended: it kept every event it could not write.)
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "./helpers/bin.ts";

const dir = mkdtempSync(join(tmpdir(), "replay-closed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("replay --kmsg into a pipe closed early: stops, exit 0, one summary line that says the output was closed", async () => {
  // 200k distinct buffer I/O errors (each an event): far more output than the first read takes.
  const lines: string[] = [];
  for (let i = 0; i < 200_000; i++) lines.push(`3,${i + 1},${1_000_000 + i * 100},-;Buffer I/O error on dev sdb1, logical block ${i}, async page read`);
  const file = join(dir, "k.kmsg");
  writeFileSync(file, lines.join("\n") + "\n");
  const p = Bun.spawn([BIN, "replay", "--kmsg", file, "--json"], { stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => p.kill("SIGKILL"), 60_000);
  const reader = p.stdout.getReader();
  const first = await reader.read(); // as head: one read, then the pipe is closed
  expect(first.value?.length).toBeGreaterThan(0);
  await reader.cancel();
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  clearTimeout(killer);
  expect(err).not.toContain("EPIPE");
  expect(err).not.toContain("failed on a record");
  const summary = err.trim().split("\n");
  expect(summary).toHaveLength(1);
  expect(summary[0]).toMatch(/^replay: (\d+) records, \d+ events \(stopped: the output was closed\)/);
  expect(Number(/^replay: (\d+) records/.exec(summary[0]!)![1])).toBeLessThan(200_000); // it stopped reading
  expect(code).toBe(0);
}, 90_000);
