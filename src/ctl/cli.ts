// `storeventd ctl VERB ...`, which is also the binary invoked as `drbd-reactorctl`: drbd-reactorctl's
// verbs, flags and output on a drbd-reactor configuration (default /etc/drbd-reactor.toml and the
// snippets directory it names). Usage errors exit 2 as `storeventd ctl`, 1 as `drbd-reactorctl`
// (its exit code); runtime errors exit 1. Cluster contexts (--context/--nodes) fan out over ssh.
import type { AnyPluginDef } from "../plugin-api.ts";
import { Registry } from "../registry.ts";
import { existsSync } from "node:fs";
import { DEFAULT_CONFIG_PATH, loadConfig } from "../config/load.ts";
import { ConfigError } from "../config/issues.ts";
import { bothStates, ctlTables, entries, pluginCount, readSnippet, type SnippetState, snippets, snippetsDirOf } from "./snippets.ts";
import { collect, ls, paint, terminal, toJson } from "./status.ts";
import { cat, type Ctx, disable, edit, enable, existing, restart, rm } from "./verbs.ts";
import { completion, HELP, VERBS, type VerbSpec } from "./help.ts";
import { doRemote } from "./remote.ts";
import { basename } from "node:path";
import { writeStdout } from "../util/fd-writer.ts";

const REMOTE = new Set(["", "status", "ls", "cat", "edit", "enable", "disable", "rm", "restart"]);

export interface CtlIo {
  out(s: string): void;
  err(s: string): void;
  isTTY: boolean;
  readLine?(): Promise<string | undefined>;
  /** Text as it is, no newline added (status text, prompts); default: stdout. */
  write?(s: string): void;
}

class Usage extends Error {}

interface Parsed {
  config: string;
  context: string;
  nodes: string[];
  verb: string;
  flags: Record<string, string | boolean | string[]>;
  args: string[];
}

export const REACTOR_CONFIG = "/etc/drbd-reactor.toml";

/** drbd-reactorctl's default file; `storeventd ctl` falls back to storeventd's own when there is no
 * drbd-reactor file (then its snippets are conf.d/ beside it unless it names `snippets`). */
function defaultConfig(asReactorctl: boolean): string {
  return asReactorctl || existsSync(REACTOR_CONFIG) ? REACTOR_CONFIG : DEFAULT_CONFIG_PATH;
}

const GLOBAL: VerbSpec["flags"] = [
  { long: "context", value: "CONTEXT" }, { long: "nodes", value: "NODES" }, { long: "local" },
];

function parseArgv(argv: string[], config: string): Parsed {
  const p: Parsed = { config, context: "default", nodes: [], verb: "", flags: {}, args: [] };
  let spec: VerbSpec | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const flags = [...(spec?.flags ?? [{ long: "config", short: "c", value: "FILE" }]), ...GLOBAL, { long: "help", short: "h" }];
    if (a.startsWith("-") && a !== "-") {
      const [name, inline] = a.startsWith("--") ? [a.slice(2).split("=")[0]!, a.includes("=") ? a.slice(a.indexOf("=") + 1) : undefined] : [a.slice(1), undefined];
      const f = a.startsWith("--") ? flags.find((x) => x.long === name) : flags.find((x) => x.short === name);
      if (!f) throw new Usage(`Found argument '${a}' which wasn't expected, or isn't valid in this context`);
      let val: string | boolean = true;
      if (f.value) {
        val = inline ?? argv[++i] ?? "";
        if (inline === undefined && i >= argv.length) throw new Usage(`The argument '--${f.long} <${f.value}>' requires a value but none was supplied`);
      }
      if (f.long === "config") p.config = val as string;
      else if (f.long === "context") p.context = val as string;
      else if (f.long === "nodes") p.nodes.push(...(val as string).split(",").filter(Boolean));
      else if (f.multiple) p.flags[f.long] = [...((p.flags[f.long] as string[] | undefined) ?? []), val as string];
      else p.flags[f.long] = val;
      continue;
    }
    if (!spec) {
      spec = VERBS[a];
      if (!spec) throw new Usage(`Found argument '${a}' which wasn't expected, or isn't valid in this context`);
      p.verb = a;
      continue;
    }
    p.args.push(a);
  }
  if (spec) {
    const need = spec.args.filter((x) => x.required).length;
    if (p.args.length < need && !p.flags.help) throw new Usage(`The following required arguments were not provided: ${spec.args.filter((x) => x.required).map((x) => `<${x.name}>`).join(" ")}`);
    if (!spec.args.some((x) => x.multiple) && p.args.length > spec.args.length) throw new Usage(`Found argument '${p.args[spec.args.length]}' which wasn't expected, or isn't valid in this context`);
  }
  return p;
}

export async function ctlCommand(argv: string[], io: CtlIo, plugins: AnyPluginDef[], asReactorctl = false): Promise<number> {
  const self = asReactorctl ? "drbd-reactorctl" : "storeventd ctl";
  let p: Parsed;
  try {
    p = parseArgv(argv, defaultConfig(asReactorctl));
  } catch (e) {
    if (!(e instanceof Usage)) throw e;
    io.err(`error: ${e.message}\n\nFor more information try --help`);
    return asReactorctl ? 1 : 2;
  }
  if (p.flags.help) return io.out(p.verb ? VERBS[p.verb]!.help(self) : HELP(self)), 0;
  const pt = paint(io.isTTY);
  const write = io.write ?? writeStdout;
  const ctx: Ctx = {
    out: io.out, err: io.err, tables: ctlTables(plugins),
    warn: (s) => io.out(`${pt.red("WARN:")} ${s}`),
    info: (s) => io.out(`${pt.yellow("INFO:")} ${s}`),
    ask: async (q, def) => {
      for (;;) {
        write(`${q} ${def ? "[Y/n]" : "[N/y]"} `);
        const line = await io.readLine?.();
        if (line === undefined) return false;
        const a = line.trim().toLowerCase();
        if (a === "") return def;
        if (a === "y" || a === "yes") return true;
        if (a === "n" || a === "no") return false;
        io.out(`Unknown answer '${a}', use 'y' or 'n'`);
      }
    },
  };
  try {
    if (p.verb === "generate-completion") {
      const sh = p.args[0] ?? "bash";
      const text = completion(sh, asReactorctl ? "drbd-reactorctl" : "storeventd");
      if (text === undefined) throw new Usage(`'${sh}' isn't a valid value for '<shell>'\n\t[possible values: bash, fish, zsh]`);
      io.out(text);
      return 0;
    }
    // As drbd-reactorctl: these verbs run on every node of a cluster context (evict and
    // start-until act on this node only).
    if (!p.flags.local && REMOTE.has(p.verb) && !(p.verb === "restart" && !p.args.length)) {
      const selfArgv = basename(process.execPath) === "bun" ? [process.execPath, Bun.main, "ctl"] : [process.execPath, "ctl"];
      const out = { write, green: pt.green };
      if (await doRemote(argv, p.context, p.nodes, selfArgv, out)) return 0;
    }
    const dir = snippetsDirOf(p.config, !asReactorctl && p.config !== REACTOR_CONFIG);
    if (!dir) throw new Error("Could not get snippets path from config file");
    const f = p.flags;
    const configs = p.args.length ? p.args : undefined;
    const pick = (s: SnippetState, mustExist: boolean) => snippets(dir, configs, s, mustExist, ctx);
    switch (p.verb) {
      case "":
      case "status": {
        const { enabled, disabled } = bothStates(dir, configs, ctx);
        const st = collect(enabled, disabled, (f.resource as string[] | undefined) ?? [], ctx.tables);
        const text = f.json ? toJson(st, ctx.tables) : await terminal(st, ctx.tables, Boolean(f.verbose), pt);
        write(text);
        return 0;
      }
      case "ls": {
        const { enabled, disabled } = bothStates(dir, configs, ctx);
        ls(enabled, disabled, ctx);
        return 0;
      }
      case "cat":
        cat(pick("enabled", true), ctx);
        return 0;
      case "enable":
        enable(pick("disabled", true), ctx);
        return 0;
      case "disable":
        disable(pick("enabled", true), Boolean(f.now), ctx);
        return 0;
      case "rm":
        await rm(pick(f.disabled ? "disabled" : "enabled", true), Boolean(f.force), ctx);
        return 0;
      case "restart":
        restart(configs ? pick("enabled", true) : [], Boolean(f["with-targets"]), ctx);
        return 0;
      case "edit": {
        // drbd-reactorctl's default type is the first table in its order.
        const type = (f.type as string | undefined) ?? [...ctx.tables].find(([, c]) => c.template !== undefined)?.[0] ?? "";
        if (ctx.tables.get(type)?.template === undefined) throw new Usage(`'${type}' isn't a valid value for '--type <type>'`);
        const registry = new Registry(plugins);
        const validate = (text: string, file: string) => {
          try {
            loadConfig({ path: file, text, registry });
            return undefined;
          } catch (e) {
            return e instanceof ConfigError ? e.message : (e as Error).message;
          }
        };
        await edit(pick(f.disabled ? "disabled" : "enabled", false), dir, type, Boolean(f.force), validate, ctx);
        return 0;
      }
    }
    // A verb a plugin owns (drbd-reactorctl's evict and start-until: the promoter's).
    for (const [table, c] of ctx.tables) {
      const run = c.verbs?.[p.verb];
      if (!run) continue;
      await run({
        args: p.args, flags: f, self, out: ctx.out, err: ctx.err, warn: ctx.warn, info: ctx.info,
        usage: (m) => {
          throw new Usage(m);
        },
        pick: (configs, state, mustExist) => snippets(dir, configs, state, mustExist, ctx),
        existing: (paths) => existing(paths, ctx),
        read: (path) => {
          const pl = readSnippet(path, ctx.tables);
          return { entries: entries(pl, table), plugins: pluginCount(pl) };
        },
      });
      return 0;
    }
    return 0;
  } catch (e) {
    if (e instanceof Usage) {
      io.err(`error: ${e.message}\n\nFor more information try --help`);
      return asReactorctl ? 1 : 2;
    }
    io.err(`Error: ${(e as Error).message}`);
    return 1;
  }
}
