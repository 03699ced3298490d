// `npm run docs`: writes the generated parts of the documentation from the code that is their
// source of truth. test/docs.test.ts regenerates them in memory and fails when a committed file
// differs (code and docs drifted).
//   docs/events.md   the event schema and the event_type catalog
//   docs/config.md   [main], instance keys and every plugin's options
//   docs/cli.md      every command's --help
//   plugins/receiver/journald/README.md   its MESSAGE_ID table (between the message-ids markers)
//   plugins/parser/README.md              the parsers' severity table (between its markers)
//   README.md                             the table of types the journal's daemons feed (between its markers)
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import plugins from "../plugins/all.ts";
import type { AnyPluginDef } from "../src/plugin-api.ts";
import { collectCatalog } from "../src/catalog.ts";
import { withTable } from "../plugins/receiver/journald/message-ids.ts";
import { eventsDoc } from "./gen/events.ts";
import { configDoc } from "./gen/config.ts";
import { cliDoc } from "./gen/cli.ts";
import { withSeverityTable } from "./gen/parsers.ts";
import { withJournalTable } from "./gen/readme.ts";

export const ROOT = join(import.meta.dir, "..");
export const REGENERATE = "npm run docs";

/** Every generated file: path relative to the repository -> its content. */
export async function generateDocs(list: AnyPluginDef[] = plugins): Promise<Map<string, string>> {
  const journald = "plugins/receiver/journald/README.md";
  const parsers = "plugins/parser/README.md";
  const types = collectCatalog(list).map((e) => e.type);
  return new Map([
    ["docs/events.md", eventsDoc(list)],
    ["docs/config.md", configDoc(list)],
    ["docs/cli.md", await cliDoc(list)],
    [journald, withTable(readFileSync(join(ROOT, journald), "utf8"), types)],
    [parsers, withSeverityTable(readFileSync(join(ROOT, parsers), "utf8"), list)],
    ["README.md", withJournalTable(readFileSync(join(ROOT, "README.md"), "utf8"), ROOT, list)],
  ]);
}

if (import.meta.main) {
  for (const [path, text] of await generateDocs()) {
    const file = join(ROOT, path);
    let old = "";
    try { old = readFileSync(file, "utf8"); } catch { /* new file */ }
    if (old !== text) {
      writeFileSync(file, text);
      console.log(`wrote ${path}`);
    }
  }
}
