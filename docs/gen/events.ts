// docs/events.md: the event schema (src/event.ts EventSchema) and the event_type catalog (the
// core's types in src/catalog.ts plus every plugin's `emits`).
import type { AnyPluginDef } from "../../src/plugin-api.ts";
import { EventSchema, SYSTEMS } from "../../src/event.ts";
import { optionDocs } from "../../src/config/schema-doc.ts";
import { collectCatalog, COMMON_EXTENSION, type CatalogEntry } from "../../src/catalog.ts";
import { GENERATED, table } from "./md.ts";

function typeSection(e: CatalogEntry): string[] {
  const out = [`#### \`${e.type}\``, "", `severity: ${e.severity.map((s) => `\`${s}\``).join(", ")}`, ""];
  for (const d of e.docs) out.push(`- ${d.origin}: ${d.doc}${d.when ? `. Severity: ${d.when}` : ""}`);
  out.push("");
  const keys = Object.entries(e.extension);
  if (keys.length === 0) out.push("No extension fields.", "");
  else out.push(...table(["extension key", "meaning"], keys.map(([k, m]) => [`\`${k}\``, m])), "");
  return out;
}

export function eventsDoc(plugins: readonly AnyPluginDef[]): string {
  const cat = collectCatalog(plugins);
  const systems = SYSTEMS.filter((s) => cat.some((e) => e.system === s));
  const out = [
    "# Events",
    "",
    GENERATED("src/event.ts (the schema), src/catalog.ts and each plugin's `emits` (the catalog)"),
    "",
    "Every event is one JSON object. The same object is a line of `replay --json`, `monitor --json`",
    "and the file receiver, a row of the store, and (as `STOREVENTD_*` fields) a journal entry.",
    "",
    "## Fields",
    "",
    ...table(["field", "type", "meaning"], optionDocs(EventSchema).map((o) => [`\`${o.key}\``, o.type, o.doc])),
    "",
    "A kernel report split over several records (a SCSI command failure with its sense and CDB lines, md's",
    "multi-line status) becomes one event whose `raw` holds its records in order; it goes out when its",
    "closing record arrives, or at most `[main] hold_max` (default 250 ms) after its last record.",
    "",
    "Identical kernel messages (the same event type and kernel text) within `[main] dedup_window` (default",
    "5 s) fold without delay: the first goes out at once, the repeats are counted, and when the window",
    "closes one follow-up event tells how many. Extension keys the core may add to any event:",
    "",
    ...table(["extension key", "meaning"], Object.entries(COMMON_EXTENSION).map(([k, m]) => [`\`${k}\``, m])),
    "",
    "## Catalog",
    "",
    "Every event type storeventd emits, with its system, its severities and the extension keys it may set",
    "(a key is present only when the source said it). A type two sources emit (a kernel log line and a",
    "uevent) lists both. The journald receiver's MESSAGE_ID of each type is in",
    "[plugins/receiver/journald/README.md](../plugins/receiver/journald/README.md).",
    "",
    ...table(["event_type", "system", "severity", "from"],
      cat.map((e) => [`[\`${e.type}\`](#${e.type.toLowerCase()})`, e.system, e.severity.join(", "), e.docs.map((d) => d.origin).join("; ")])),
    "",
  ];
  for (const s of systems) {
    out.push(`### ${s}`, "");
    for (const e of cat.filter((x) => x.system === s)) out.push(...typeSection(e));
  }
  return out.join("\n").replace(/\n+$/, "\n");
}
