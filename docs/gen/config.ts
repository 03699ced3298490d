// docs/config.md: [main], the keys of every instance, filter and queue, and every plugin's options,
// from the valibot schemas (the v.description() on each key is its only doc).
import type * as v from "valibot";
import type { AnyPluginDef } from "../../src/plugin-api.ts";
import { CommonSchema, DRBD_REACTOR_TABLES, DrbdReactorLogSchema, FilterSchema, MainSchema, QueueSchema } from "../../src/config/schema.ts";
import { optionDocs } from "../../src/config/schema-doc.ts";
import { GENERATED, table } from "./md.ts";

function options(schema: v.GenericSchema): string[] {
  const rows = optionDocs(schema).map((o) => [`\`${o.key}\``, o.type, o.required ? "(required)" : o.default === null ? "" : `\`${o.default}\``, o.doc || "(undocumented)"]);
  return rows.length ? table(["key", "type", "default", "meaning"], rows) : ["No options."];
}

export function configDoc(plugins: readonly AnyPluginDef[]): string {
  const sorted = [...plugins].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  const out = [
    "# Configuration",
    "",
    GENERATED("the valibot schemas in src/config/schema.ts and each plugin's index.ts"),
    "",
    "TOML: `/etc/storeventd/storeventd.toml` (or `-c PATH`) plus every `*.toml` snippet in `conf.d/` beside it",
    "(or the directory `[main] snippets` names), each parsed on its own. `storeventd check` validates it;",
    "errors name the file, the line and the key; unknown keys are errors with a \"did you mean\" hint.",
    "Keys marked (required) must be given; the others may be left out (a default, when there is one, is shown).",
    "",
    "Every table other than `[main]` is a plugin instance: `[NAME]` with `type` and `plugin`. A config that",
    "names no parser runs every parser; one that names any parser runs only those; a config that names",
    "no sender runs none. With no config file, `run` uses an embedded default (see [cli.md](cli.md), `run`).",
    "drbd-reactor's configuration (`[[umh]]`, `[[prometheus]]`, `[[debugger]]`, `[[promoter]]`, `[[agentx]]`,",
    "`[[log]]`, `snippets`, `statistics-poll-interval`) is accepted unchanged: each array entry becomes an",
    "instance of the plugin of the same name.",
    "",
    "Durations are strings like `\"250ms\"`, `\"5s\"`, `\"1m\"`, or a number of seconds.",
    "",
    "## [main]",
    "",
    ...options(MainSchema),
    "",
    "## Keys of every instance",
    "",
    ...options(CommonSchema),
    "",
    "### filter",
    "",
    ...options(FilterSchema),
    "",
    "### queue (receivers)",
    "",
    ...options(QueueSchema),
    "",
    "## drbd-reactor's keys",
    "",
    "Accepted at the top level, with drbd-reactor's meaning (src/config/load.ts):",
    "",
    ...table(["key", "type", "meaning"], [
      ["`snippets`", "string", "directory of `*.toml` snippets (as `[main] snippets`)"],
      ["`statistics-poll-interval`", "number (seconds)", "how often the drbd senders poll statistics, for those that do not set their own"],
      ["`snippets-monitoring-interval`", "number (seconds, 0 = off)", "accepted; storeventd reloads on SIGHUP or `storeventd reload` instead of watching the snippets"],
    ]),
    "",
    `Arrays of tables, each entry one instance of the plugin of the same name: ${DRBD_REACTOR_TABLES.map((k) => `\`[[${k}]]\``).join(", ")}.`,
    "",
    "### [[log]]",
    "",
    "Any `[[log]]` replaces the default log on stderr.",
    "",
    ...options(DrbdReactorLogSchema),
    "",
    "## Plugins",
    "",
    ...table(["kind", "plugin", "does"], sorted.map((p) => [p.kind, `[${p.name}](#${p.kind}-${p.name})`, p.description])),
    "",
  ];
  for (const p of sorted) {
    out.push(`### ${p.kind} ${p.name}`, "", p.description, "",
      `Example: [plugins/${p.kind}/${p.name}/sample.toml](../plugins/${p.kind}/${p.name}/sample.toml).`, "", ...options(p.schema), "");
  }
  return out.join("\n").replace(/\n+$/, "\n");
}
