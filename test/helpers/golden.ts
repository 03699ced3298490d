// Golden files: compared, never created by a test run. `npm run update-goldens` (UPDATE_GOLDENS=1)
// is the only writer; a missing golden is a failure that names that command.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export const UPDATING = process.env.UPDATE_GOLDENS === "1";

/** The golden text of `file`; with UPDATE_GOLDENS=1 it is first (re)written from `actual`. */
export function golden(file: string, actual: string): string {
  if (UPDATING) writeFileSync(file, actual);
  if (!existsSync(file)) throw new Error(`missing golden ${file}: write it with \`npm run update-goldens\` and review the diff`);
  return readFileSync(file, "utf8");
}
