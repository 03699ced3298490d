import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readStateFile, StateFileWriter, writeStateFile } from "./state-file.ts";

const dir = mkdtempSync(join(tmpdir(), "lat13b-state-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("writeStateFile() then readStateFile() round-trips; a missing or broken file reads as undefined", () => {
  const p = join(dir, "a/b/cursor");
  writeStateFile(p, { seq: 7 });
  expect(readStateFile(p)).toEqual({ seq: 7 });
  expect(readStateFile(join(dir, "none"))).toBeUndefined();
});

test("StateFileWriter.save() writes nothing before it returns, then the newest of many saves, skipping older ones", async () => {
  const p = join(dir, "w/cursor");
  const written: unknown[] = [];
  const w = new StateFileWriter(p, (v, e) => written.push(e ? `error ${e.message}` : v));
  for (let seq = 1; seq <= 100; seq++) w.save({ seq });
  expect(existsSync(p)).toBe(false); // nothing synchronous on the caller's path
  expect(w.pending).toBe(true);
  while (w.pending) await Bun.sleep(1);
  expect(readStateFile(p)).toEqual({ seq: 100 });
  expect(written).toEqual([{ seq: 1 }, { seq: 100 }]); // the first in flight, then only the newest
  expect(readdirSync(join(dir, "w"))).toEqual(["cursor"]); // no temp file left
});

test("StateFileWriter.flushSync() writes the newest unwritten value at once; errors are reported, not thrown", async () => {
  const p = join(dir, "f/cursor");
  const errors: string[] = [];
  const w = new StateFileWriter(p, (_v, e) => void (e && errors.push(e.message)));
  w.save({ seq: 1 });
  w.save({ seq: 2 });
  w.flushSync();
  expect(readStateFile(p)).toEqual({ seq: 2 });
  while (w.pending) await Bun.sleep(1);
  expect(readStateFile(p)).toEqual({ seq: 2 }); // the write of seq 1 in flight did not have the last word
  const bad = new StateFileWriter(join(dir, "f/cursor/not-a-dir"), (_v, e) => void (e && errors.push(e.message)));
  bad.save({ seq: 3 });
  while (bad.pending) await Bun.sleep(1);
  bad.save({ seq: 4 });
  bad.save({ seq: 5 });
  bad.flushSync(); // seq 5 at once (and again behind seq 4, in flight)
  while (bad.pending) await Bun.sleep(1);
  expect(errors).toHaveLength(4);
  expect(errors[0]).toContain("f/cursor");
});
