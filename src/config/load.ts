// Loads the config: the main file plus *.toml snippets, each parsed on its own (errors name their
// file), merged by table. drbd-reactor's configuration is accepted unchanged.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { hostname as osHostname } from "node:os";
import { parse as parseToml, TomlError } from "smol-toml";
import * as v from "valibot";
import type { AnyPluginDef, PluginKind } from "../plugin-api.ts";
import type { Registry } from "../registry.ts";
import {
  COMMON_KEYS, CommonSchema, DRBD_REACTOR_TABLES, DrbdReactorLogSchema, MainSchema, QueueSchema, mainIssues,
  type FilterConfig, type MainConfig, type QueueConfig,
} from "./schema.ts";
import { TomlLines, type KeyPath } from "./toml-lines.ts";
import { ConfigError, fromValibot, type ConfigIssue } from "./issues.ts";
import { didYouMean } from "./did-you-mean.ts";
import { embeddedDefault, type HostFacts } from "./default.ts";

export const DEFAULT_CONFIG_PATH = "/etc/storeventd/storeventd.toml";

export interface InstanceConfig {
  name: string;
  kind: PluginKind;
  plugin: string;
  def: AnyPluginDef;
  options: unknown;
  /** The plugin's own keys as written (before validation). */
  raw: Record<string, unknown>;
  filter?: FilterConfig;
  queue: QueueConfig;
  file: string;
  line?: number;
  /** Equal fingerprints = same instance config (reload keeps it running). */
  fingerprint: string;
}

export interface Config {
  main: MainConfig & { hostname: string };
  instances: InstanceConfig[];
  files: string[];
  embedded: boolean;
  drbdReactor: { statisticsPollInterval?: number; log?: v.InferOutput<typeof DrbdReactorLogSchema>[] };
}

interface SourceFile {
  file: string;
  data: Record<string, unknown>;
  lines: TomlLines;
}

const TOP_LEVEL_SCALARS = ["snippets", "statistics-poll-interval", "snippets-monitoring-interval"];

function readToml(file: string, text: string, issues: ConfigIssue[]): SourceFile | undefined {
  try {
    return { file, data: parseToml(text) as Record<string, unknown>, lines: new TomlLines(text) };
  } catch (e) {
    if (e instanceof TomlError) {
      const msg = e.message.split("\n")[0]!.replace(/^Invalid TOML document:\s*/, "");
      issues.push({ file, line: e.line, scope: "", key: [], message: `TOML syntax: ${msg}` });
    } else {
      issues.push({ file, scope: "", key: [], message: String(e) });
    }
    return undefined;
  }
}

function snippetFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".toml")).sort().map((f) => join(dir, f));
}

export interface LoadOptions {
  /** The file to read; undefined = DEFAULT_CONFIG_PATH. */
  path?: string;
  registry: Registry;
  /** With no file at the default path, use the embedded default (run). Explicit paths must exist. */
  allowEmbedded?: boolean;
  /** What the embedded default finds on this host (default: probed now). */
  host?: HostFacts;
  /** Instead of reading files (tests, the embedded default). */
  text?: string;
  /** Where the config is when no path is given (tests point it elsewhere). */
  defaultPath?: string;
  /** Run plugins' validate() (default). Off only to check a sample's shape on a host that lacks
   * the files and programs the sample names. */
  validate?: boolean;
}

export function loadConfig(opts: LoadOptions): Config {
  const issues: ConfigIssue[] = [];
  const path = opts.path ?? opts.defaultPath ?? DEFAULT_CONFIG_PATH;
  let sources: SourceFile[] = [];
  let embedded = false;
  if (opts.text !== undefined) {
    const src = readToml(path, opts.text, issues);
    if (src) sources.push(src);
  } else if (!existsSync(path) && opts.path === undefined && opts.allowEmbedded) {
    embedded = true;
    const src = readToml("(embedded default)", embeddedDefault(opts.registry, opts.host), issues);
    if (src) sources.push(src);
  } else {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      throw new ConfigError([{ file: path, scope: "", key: [], message: `cannot read: ${(e as Error).message}` }]);
    }
    const main = readToml(path, text, issues);
    if (main) {
      sources.push(main);
      const snip = main.data["snippets"] ?? (main.data["main"] as Record<string, unknown> | undefined)?.["snippets"];
      const dir = typeof snip === "string" ? resolve(dirname(path), snip) : join(dirname(path), "conf.d");
      for (const f of snippetFiles(dir)) {
        let t: string;
        try {
          t = readFileSync(f, "utf8");
        } catch (e) {
          issues.push({ file: f, scope: "", key: [], message: `cannot read: ${(e as Error).message}` });
          continue;
        }
        const s = readToml(f, t, issues);
        if (s) sources.push(s);
      }
    }
  }
  if (issues.length) throw new ConfigError(issues);
  const cfg = merge(sources, opts.registry, issues, embedded, opts.validate ?? true);
  if (issues.length) throw new ConfigError(issues);
  return cfg;
}

function merge(sources: SourceFile[], registry: Registry, issues: ConfigIssue[], embedded: boolean, validate: boolean): Config {
  const mainRaw: Record<string, unknown> = {};
  const mainSeen = new Map<string, string>();
  const instances: InstanceConfig[] = [];
  const names = new Map<string, string>();
  const arrayIndex = new Map<string, number>();
  const drbdReactor: Config["drbdReactor"] = {};
  const reactorArrays = new Map(DRBD_REACTOR_TABLES.map((t) => [t, t]));
  for (const d of registry.list()) if (d.reactorTable) reactorArrays.set(d.reactorTable, d.name);
  const knownTop = () => ["main", ...TOP_LEVEL_SCALARS, ...reactorArrays.keys(), "log",
    ...registry.list().map((d) => d.name)];

  for (const src of sources) {
    const at = (key: KeyPath) => src.lines.lineOf(key);
    for (const [top, value] of Object.entries(src.data)) {
      if (top === "main") {
        if (!isTable(value)) {
          issues.push({ file: src.file, line: at([top]), scope: "", key: [top], message: "expected a table [main]" });
          continue;
        }
        for (const [k, val] of Object.entries(value)) {
          const prev = mainSeen.get(k);
          if (prev) issues.push({ file: src.file, line: at([top, k]), scope: "[main]", key: [k], message: `already set in ${prev}` });
          mainSeen.set(k, `${src.file}:${at([top, k]) ?? "?"}`);
          mainRaw[k] = val;
        }
        continue;
      }
      if (top === "snippets") {
        if (typeof value !== "string") issues.push({ file: src.file, line: at([top]), scope: "", key: [top], message: "expected a directory path" });
        continue;
      }
      if (top === "snippets-monitoring-interval") {
        // drbd-reactor's snippet-drift check (0 disables it); storeventd reloads on SIGHUP instead.
        if (typeof value !== "number" || !(value >= 0)) {
          issues.push({ file: src.file, line: at([top]), scope: "", key: [top], message: "expected a number of seconds (0 disables)" });
        }
        continue;
      }
      if (top === "statistics-poll-interval") {
        if (typeof value !== "number" || !(value > 0)) {
          issues.push({ file: src.file, line: at([top]), scope: "", key: [top], message: "expected a positive number of seconds" });
        } else drbdReactor.statisticsPollInterval = value;
        continue;
      }
      if (top === "log" && Array.isArray(value)) {
        value.forEach((el, i) => {
          const r = v.safeParse(DrbdReactorLogSchema, el);
          if (!r.success) issues.push(...fromValibot(r.issues, DrbdReactorLogSchema, { file: src.file, scope: `[[log]]`, prefix: [top, i], lineOf: at }));
          else (drbdReactor.log ??= []).push(r.output);
        });
        continue;
      }
      const arrPlugin = reactorArrays.get(top);
      if (arrPlugin && Array.isArray(value)) {
        value.forEach((el, i) => {
          const n = arrayIndex.get(top) ?? 0;
          arrayIndex.set(top, n + 1);
          const name = `${top}[${n}]`;
          addInstance(name, el, { src, prefix: [top, i], scope: `[[${top}]] #${n + 1}`, forced: { kind: "receiver", plugin: arrPlugin } });
        });
        continue;
      }
      if (!isTable(value)) {
        issues.push({ file: src.file, line: at([top]), scope: "", key: [top], message: `unknown top-level key${didYouMean(top, knownTop())}` });
        continue;
      }
      addInstance(top, value, { src, prefix: [top], scope: `[${top}]` });
    }
  }

  function addInstance(
    name: string, table: unknown,
    w: { src: SourceFile; prefix: KeyPath; scope: string; forced?: { kind: PluginKind; plugin: string } },
  ): void {
    const at = (key: KeyPath) => w.src.lines.lineOf(key);
    const base = { file: w.src.file, scope: w.scope, prefix: w.prefix, lineOf: at };
    const issue = (key: KeyPath, message: string): void =>
      void issues.push({ file: w.src.file, line: at([...w.prefix, ...key]), scope: w.scope, key, message });
    if (!isTable(table)) return issue([], "expected a table");
    const prev = names.get(name);
    if (prev) return issue([], `instance "${name}" is already defined in ${prev}`);
    names.set(name, `${w.src.file}:${at(w.prefix) ?? "?"}`);

    const commonRaw: Record<string, unknown> = {};
    const optionsRaw: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(table)) {
      if (!w.forced && (COMMON_KEYS as readonly string[]).includes(k)) commonRaw[k] = val;
      else if (w.forced && (k === "filter" || k === "queue")) commonRaw[k] = val;
      else optionsRaw[k] = val;
    }
    const common = v.safeParse(CommonSchema, commonRaw);
    if (!common.success) issues.push(...fromValibot(common.issues, CommonSchema, base));
    const commonOut = common.success ? common.output : v.parse(CommonSchema, {});
    const plugin = w.forced?.plugin ?? (typeof commonRaw["plugin"] === "string" ? commonRaw["plugin"] : name);
    let kind: PluginKind | undefined = w.forced?.kind ?? commonOut.type;
    if (!kind) {
      const kinds = registry.kindsOf(plugin);
      if (kinds.length === 1) kind = kinds[0];
      else if (kinds.length > 1) return issue(["type"], `missing; "${plugin}" exists as ${kinds.join(" and ")}`);
      else {
        const all = registry.list().map((d) => d.name);
        return issue(["plugin"], `unknown plugin "${plugin}"${didYouMean(plugin, all)}`);
      }
    }
    const def = registry.get(kind!, plugin);
    if (!def) {
      if (w.forced) return issue([], `the ${plugin} plugin is not supported yet`);
      const all = registry.list(kind).map((d) => d.name);
      return issue(["plugin"], `unknown ${kind} plugin "${plugin}"${didYouMean(plugin, all)}`);
    }
    const opts = v.safeParse(def.schema, optionsRaw);
    if (!opts.success) {
      const known = [...Object.keys((def.schema as { entries?: object }).entries ?? {}), ...COMMON_KEYS];
      for (const i of fromValibot(opts.issues, def.schema, base)) {
        // Unknown keys get hints from the plugin's keys plus the common ones.
        if (i.message.startsWith("unknown key") && i.key.length === 1) {
          const bad = String(i.key[0]);
          i.message = `unknown key "${bad}"${didYouMean(bad, known)}`;
        }
        issues.push(i);
      }
      return;
    }
    if (!common.success) return;
    try {
      if (validate) def.validate?.(opts.output, { hostname: hostnameOf(mainRaw) });
    } catch (e) {
      return issue([], (e as Error).message);
    }
    instances.push({
      name, kind: kind!, plugin, def, options: opts.output, raw: optionsRaw,
      filter: commonOut.filter, queue: commonOut.queue,
      file: w.src.file, line: at(w.prefix),
      fingerprint: JSON.stringify([kind, plugin, table]),
    });
  }

  const main = v.safeParse(MainSchema, mainRaw);
  if (!main.success) {
    const file = sources[0]?.file ?? "";
    issues.push(...fromValibot(main.issues, MainSchema, { file, scope: "[main]", prefix: ["main"], lineOf: (k) => sources[0]?.lines.lineOf(k) }));
  }
  const m = main.success ? main.output : v.parse(MainSchema, {});
  for (const i of main.success ? mainIssues(m) : []) {
    const where = /^(.*):(\d+|\?)$/.exec(mainSeen.get(i.key) ?? "");
    issues.push({ file: where?.[1] ?? sources[0]?.file ?? "", line: where && where[2] !== "?" ? Number(where[2]) : undefined, scope: "[main]", key: [i.key], message: i.message });
  }
  impliedSenders(instances, drbdReactor, registry);
  return {
    main: { ...m, hostname: m.hostname ?? osHostname() },
    instances,
    files: sources.map((s) => s.file),
    embedded,
    drbdReactor,
  };
}

/** drbd-reactor runs one events2 source for its plugins: a config with a plugin that needs a record
 * kind (needs) and no sender of it gets the sender declared impliedFor that kind, and drbd-reactor's
 * top-level keys (reactorOptions) apply to that sender's instances that do not set their own. */
function impliedSenders(instances: InstanceConfig[], dr: Config["drbdReactor"], registry: Registry): void {
  for (const def of registry.list()) if (def.kind === "sender" && def.impliedFor?.length) impliedSender(instances, dr, def);
}

function impliedSender(instances: InstanceConfig[], dr: Config["drbdReactor"], def: AnyPluginDef): void {
  const top: Record<string, unknown> = { "statistics-poll-interval": dr.statisticsPollInterval };
  const poll: Record<string, unknown> = {};
  for (const k of def.reactorOptions ?? []) if (top[k] !== undefined) poll[k] = top[k];
  const senders = instances.filter((i) => i.kind === "sender" && i.plugin === def.name);
  if (!senders.length) {
    if (!instances.some((i) => i.def.needs?.some((k) => def.impliedFor!.includes(k)))) return;
    if (instances.some((i) => i.name === def.name)) return;
    instances.push({
      name: def.name, kind: "sender", plugin: def.name, def, options: v.parse(def.schema, poll), raw: poll,
      queue: v.parse(QueueSchema, {}), file: "(implied by the drbd-reactor plugins)",
      fingerprint: JSON.stringify(["sender", def.name, poll, "implied"]),
    });
    return;
  }
  for (const s of senders) {
    const add = Object.fromEntries(Object.entries(poll).filter(([k]) => !(k in s.raw)));
    if (!Object.keys(add).length) continue;
    s.raw = { ...s.raw, ...add };
    s.options = v.parse(def.schema, s.raw);
    s.fingerprint += JSON.stringify(add);
  }
}

function hostnameOf(main: Record<string, unknown>): string {
  return typeof main["hostname"] === "string" ? main["hostname"] : osHostname();
}

function isTable(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Date);
}
