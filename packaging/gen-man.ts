// Prints parts of storeventd.toml(5) from the schemas (the v.description() on each key is the
// option's only documentation), so the man page cannot drift from the code. packaging/build.sh
// replaces @MAIN_OPTIONS@, @FILTER_OPTIONS@, @QUEUE_OPTIONS@ and @PLUGINS_OPTIONS@ with
// `bun packaging/gen-man.ts main|filter|queue|plugins`.
import * as v from "valibot";
import plugins from "../plugins/all.ts";
import type { AnyPluginDef } from "../src/plugin-api.ts";
import { FilterSchema, MainSchema, QueueSchema } from "../src/config/schema.ts";
import { optionDocs } from "../src/config/schema-doc.ts";

/** roff-safe text: escapes backslashes, hyphens and a leading dot or quote. */
export function roff(text: string): string {
  const s = text.replace(/\s*\n\s*/g, " ").replace(/\\/g, "\\e").replace(/-/g, "\\-");
  return /^[.']/.test(s) ? "\\&" + s : s;
}

/** .TP entries, one per key of a strictObject schema. */
export function optionList(schema: v.GenericSchema): string[] {
  const out: string[] = [];
  for (const o of optionDocs(schema)) {
    out.push(".TP", `\\fB${o.key}\\fR (${roff(o.type)}${o.default === null ? "" : `, default ${roff(o.default)}`})`);
    out.push(roff(o.doc || "(undocumented)"));
  }
  return out;
}

export function pluginSection(list: AnyPluginDef[]): string {
  const out: string[] = [".SH PLUGIN OPTIONS"];
  if (list.length === 0) {
    out.push("This build contains no plugins.");
    return out.join("\n") + "\n";
  }
  out.push("Generated from each plugin's schema.", "Options without a default are required.");
  for (const p of [...list].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name))) {
    out.push(`.SS "${p.kind} ${p.name}"`, roff(p.description));
    const opts = optionList(p.schema);
    out.push(...(opts.length ? opts : [".PP", "No options."]));
  }
  return out.join("\n") + "\n";
}

export function section(what: string): string {
  switch (what) {
    case "main": return optionList(MainSchema).join("\n") + "\n";
    case "filter": return [".RS", ...optionList(FilterSchema), ".RE"].join("\n") + "\n";
    case "queue": return [".RS", ...optionList(QueueSchema), ".RE"].join("\n") + "\n";
    case "plugins": return pluginSection(plugins);
    default: throw new Error(`gen-man.ts: unknown section "${what}" (main, filter, queue, plugins)`);
  }
}

if (import.meta.main) process.stdout.write(section(process.argv[2] ?? "plugins"));
