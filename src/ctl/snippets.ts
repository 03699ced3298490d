// drbd-reactorctl's view of a configuration: the snippets directory named by the main file's
// `snippets` key, each snippet enabled (`NAME.toml`) or disabled (`NAME.toml.disabled`), bare names
// resolved against that directory, and the plugins each snippet declares (their [[table]]s, as the
// plugins that own them read them: PluginDef.ctl).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import type { AnyPluginDef, CtlSnippet } from "../plugin-api.ts";

export type SnippetState = "enabled" | "disabled";

const EXT: Record<SnippetState, string> = { enabled: ".toml", disabled: ".toml.disabled" };

export function stateOf(path: string): SnippetState | undefined {
  if (path.endsWith(EXT.disabled)) return "disabled";
  if (path.endsWith(EXT.enabled)) return "enabled";
  return undefined;
}

/** The path with the extension of `state` (replacing .toml or .toml.disabled, else appended). */
export function withState(path: string, state: SnippetState): string {
  const base = path.endsWith(EXT.disabled) ? path.slice(0, -EXT.disabled.length)
    : path.endsWith(EXT.enabled) ? path.slice(0, -EXT.enabled.length) : path;
  return base + EXT[state];
}

export function opposite(path: string): string | undefined {
  const s = stateOf(path);
  return s && withState(path, s === "enabled" ? "disabled" : "enabled");
}

/** The snippets directory of a main file (relative to the file's directory, as the daemon reads
 * it), or undefined (no file, bad TOML, or no `snippets` key and no conf.d fallback). A storeventd
 * config without the key has its snippets in conf.d/ beside it, as the daemon does. */
export function snippetsDirOf(config: string, confD = false): string | undefined {
  let doc: { snippets?: unknown; main?: { snippets?: unknown } };
  try {
    doc = parseToml(readFileSync(config, "utf8")) as typeof doc;
  } catch {
    return undefined;
  }
  const snip = doc.snippets ?? doc.main?.snippets;
  if (typeof snip === "string") return resolve(dirname(config), snip);
  return confD ? join(dirname(config), "conf.d") : undefined;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Named configs (absolute, or bare/relative names in the directory with the extension of `state`
 * added when missing), or every file of that state in the directory, sorted. */
export function candidates(dir: string, configs: string[] | undefined, state: SnippetState, warn: (s: string) => void): string[] {
  if (!configs || !configs.length) {
    try {
      return readdirSync(dir).map((f) => join(dir, f)).filter((p) => p.endsWith(EXT[state]) && isFile(p)).sort();
    } catch (e) {
      warn(`Error reading files in '${dir}': ${(e as Error).message}`);
      return [];
    }
  }
  return configs.map((c) => (isAbsolute(c) ? c : join(dir, stateOf(c) ? c : withState(c, state))));
}

function problem(dir: string, path: string, mustExist: boolean): string | undefined {
  if (!stateOf(path)) return `File '${path}' does not have a recognized extension (.toml or .toml.disabled), ignoring`;
  const d = resolve(dir);
  if (!(resolve(path) + "/").startsWith(d + "/")) return `File '${path}' is not within snippets path '${dir}', ignoring`;
  if (mustExist && !isFile(path)) return `File '${path}' does not exist or is not a regular file, ignoring`;
  return undefined;
}

export interface Out {
  out(s: string): void;
  err(s: string): void;
  warn(s: string): void;
  /** The tables of this build's drbd-reactor plugins. */
  tables: CtlTables;
}

function warnBoth(paths: string[], o: Out): void {
  const seen = new Set<string>();
  for (const p of paths) {
    const q = opposite(p);
    if (q && existsSync(q) && !seen.has(p) && !seen.has(q)) {
      o.warn(`both '${p}' and '${q}' exist`);
      seen.add(p).add(q);
    }
  }
}

/** What a verb works on: the named (or all) snippets of `state`, invalid ones reported and dropped. */
export function snippets(dir: string, configs: string[] | undefined, state: SnippetState, mustExist: boolean, o: Out): string[] {
  const valid: string[] = [];
  for (const p of candidates(dir, configs, state, o.err)) {
    const why = problem(dir, p, mustExist);
    if (why) o.err(why);
    else valid.push(p);
  }
  warnBoth(valid, o);
  return valid;
}

/** Enabled and disabled snippets that exist (for status and ls). */
export function bothStates(dir: string, configs: string[] | undefined, o: Out): { enabled: string[]; disabled: string[] } {
  const pick = (s: SnippetState) => candidates(dir, configs, s, o.err).filter((p) => !problem(dir, p, true));
  const enabled = pick("enabled");
  const disabled = pick("disabled");
  warnBoth([...enabled, ...disabled], o);
  return { enabled, disabled };
}

/** The drbd-reactor tables ctl knows, in drbd-reactorctl's order: those of the plugins that declare
 * a reactorTable and a ctl contribution. */
export type CtlTables = ReadonlyMap<string, CtlSnippet>;

export function ctlTables(plugins: readonly AnyPluginDef[]): CtlTables {
  const defs = plugins.filter((d) => d.reactorTable && d.ctl).sort((a, b) => a.ctl!.order - b.ctl!.order);
  return new Map(defs.map((d) => [d.reactorTable!, d.ctl!]));
}

/** The plugins a snippet declares: each known table's entries, as its plugin reads them. */
export type Plugins = Record<string, Record<string, unknown>[]>;

export function readSnippet(path: string, tables: CtlTables): Plugins {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`Could not parse config file '${path}': ${(e as Error).message}`);
  }
  const out: Plugins = {};
  for (const [table, view] of tables) {
    const entries = Array.isArray(doc[table]) ? doc[table] as Record<string, unknown>[] : [];
    out[table] = entries.map((e) => (view.read ? view.read(e) : e));
  }
  return out;
}

/** The entries of one table (none when this build has no plugin for it). */
export function entries<T = Record<string, unknown>>(p: Plugins, table: string): T[] {
  return (p[table] ?? []) as T[];
}

export function pluginCount(p: Plugins): number {
  return Object.values(p).reduce((n, e) => n + e.length, 0);
}
