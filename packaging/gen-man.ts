// Prints parts of storeventd.toml(5) from the schemas (the v.description() on each key is the
// option's only documentation), so the man page cannot drift from the code. packaging/build.sh
// replaces @MAIN_OPTIONS@, @FILTER_OPTIONS@, @QUEUE_OPTIONS@ and @PLUGINS_OPTIONS@ with
// `bun packaging/gen-man.ts main|filter|queue|plugins`.
import * as v from "valibot";
import plugins from "../plugins/all.ts";
import type { AnyPluginDef } from "../src/plugin-api.ts";
import { Duration, FilterSchema, MainSchema, QueueSchema } from "../src/config/schema.ts";

type Schema = v.GenericSchema & { type: string; entries?: Record<string, Schema>; wrapped?: Schema; options?: Schema[]; item?: Schema; pipe?: Schema[] };

/** roff-safe text: escapes backslashes, hyphens and a leading dot or quote. */
export function roff(text: string): string {
  const s = text.replace(/\s*\n\s*/g, " ").replace(/\\/g, "\\e").replace(/-/g, "\\-");
  return /^[.']/.test(s) ? "\\&" + s : s;
}

// The first description found on the schema, its pipe, or the schema it wraps.
function describe(s: Schema | undefined): string {
  for (let cur = s; cur; cur = cur.wrapped) {
    const d = v.getDescription(cur as never);
    if (d) return d;
  }
  return "";
}

// A short type name: string, integer, number, boolean, duration-like strings stay "string".
function typeName(s: Schema | undefined): string {
  if (!s) return "any";
  if ((s as unknown) === Duration) return "duration";
  switch (s.type) {
    case "optional": case "nullish": case "nullable": case "exact_optional": return typeName(s.wrapped);
    case "picklist": return (s.options as unknown as string[]).map((o) => JSON.stringify(o)).join(" | ");
    case "union": {
      const [one, many] = s.options ?? [];
      // oneOrMany(x): a value or an array of them
      if (s.options?.length === 2 && many?.type === "array" && typeName(many.item) === typeName(one)) return `${typeName(one)}, or an array`;
      return (s.options ?? []).map(typeName).join(" | ");
    }
    case "literal": return JSON.stringify((s as unknown as { literal: unknown }).literal);
    case "array": return `array of ${typeName(s.item)}`;
    case "object": case "strict_object": case "loose_object": return "table";
    case "number": return s.pipe?.some((p) => p.type === "integer") ? "integer" : "number";
    default: return s.type;
  }
}

function defaultOf(s: Schema): string | null {
  if (s.type !== "optional" && s.type !== "nullish" && s.type !== "exact_optional") return null;
  const d = v.getDefault(s as never);
  return d === undefined ? null : JSON.stringify(d);
}

/** .TP entries, one per key of a strictObject schema. */
export function optionList(schema: v.GenericSchema): string[] {
  const out: string[] = [];
  const entries = (schema as Schema).entries ?? {};
  for (const key of Object.keys(entries)) {
    const s = entries[key]!;
    const def = defaultOf(s);
    out.push(".TP", `\\fB${key}\\fR (${roff(typeName(s))}${def === null ? "" : `, default ${roff(def)}`})`);
    out.push(roff(describe(s) || "(undocumented)"));
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
