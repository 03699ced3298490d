import type { AnyPluginDef } from "../plugin-api.ts";
import { Registry } from "../registry.ts";
import { DEFAULT_CONFIG_PATH, loadConfig } from "../config/load.ts";
import { ConfigError } from "../config/issues.ts";
import { CONFIG_OPTION, parse, type Io } from "./args.ts";

export const CHECK_HELP = `Usage: storeventd check [-c PATH] [--json]

Validates the config file and every *.toml snippet beside it (conf.d/, or the directory named by
\`snippets\`), the way \`run\` and a reload would, without starting anything. Each error names the
instance, the key path, the file and the line:

  [journal] filter.severity[2]: expected one of info|warn|error, got "critical" (storeventd.toml:14)

Unknown keys are errors, with a "did you mean" hint. drbd-reactor configuration ([[umh]],
[[prometheus]], [[debugger]], [[promoter]], [[agentx]], [[log]], snippets,
statistics-poll-interval) is accepted unchanged.

Options:
  -c, --config PATH   config file (default ${DEFAULT_CONFIG_PATH})
      --json          print the result as JSON
  -h, --help          this help

Exit status: 0 valid, 2 invalid or unreadable.`;

export async function checkCommand(argv: string[], io: Io, plugins: AnyPluginDef[]): Promise<number> {
  const { values } = parse(argv, { ...CONFIG_OPTION, json: { type: "boolean" } });
  if (values.help) return io.out(CHECK_HELP), 0;
  const registry = new Registry(plugins);
  try {
    const cfg = loadConfig({ path: values.config, registry });
    const summary = cfg.instances.map((i) => ({ name: i.name, kind: i.kind, plugin: i.plugin, file: i.file, line: i.line }));
    if (values.json) io.out(JSON.stringify({ ok: true, files: cfg.files, instances: summary }));
    else {
      io.out(`${cfg.files.join(", ")}: OK`);
      for (const k of ["sender", "parser", "receiver"] as const) {
        const of = summary.filter((i) => i.kind === k);
        const note = k === "parser" && !of.length ? "(none named: every parser runs)" : of.map((i) => i.name === i.plugin ? i.name : `${i.name} (${i.plugin})`).join(", ") || "(none)";
        io.out(`  ${k}s: ${note}`);
      }
    }
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (values.json) io.out(JSON.stringify({ ok: false, errors: e.issues.map((i) => ({ ...i, text: undefined })) }));
    else io.err(e.message);
    return 2;
  }
}
