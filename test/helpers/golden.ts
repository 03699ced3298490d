// Golden files: a test compares what the code emits with a reviewed, committed file. Only the
// explicit `npm run update-goldens` (UPDATE_GOLDENS=1) writes them; a missing golden fails, so a
// first run can never pass with whatever the code happens to emit.
import { expect } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";

export const UPDATE_GOLDENS = process.env.UPDATE_GOLDENS === "1";

/** Checks `actual` against the golden `file` (or rewrites it under `npm run update-goldens`). */
export function expectGolden(file: string, actual: string): void {
  if (UPDATE_GOLDENS) {
    writeFileSync(file, actual);
    console.error(`update-goldens: wrote ${relative(process.cwd(), file)}`);
    return;
  }
  if (!existsSync(file)) {
    throw new Error(`missing golden ${relative(process.cwd(), file)}: write it with \`npm run update-goldens\`, then review it by hand`);
  }
  expect(actual).toBe(readFileSync(file, "utf8"));
}
