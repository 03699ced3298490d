import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import * as v from "valibot";
import { loadConfig } from "./load.ts";
import { ConfigError } from "./issues.ts";
import { Registry } from "../registry.ts";
import { definePlugin, type AnyPluginDef, type EmbeddedDefault } from "../plugin-api.ts";

const dir = mkdtempSync(join(tmpdir(), "storeventd-cfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const recv = (name: string, schema: v.GenericSchema = v.strictObject({ path: v.optional(v.string()), fsync: v.optional(v.picklist(["always", "never"])) }), reactorTable?: string, embeddedDefault?: EmbeddedDefault) =>
  definePlugin({ kind: "receiver", name, description: name, schema, reactorTable, embeddedDefault, create: () => ({ send() {} }) }) as unknown as AnyPluginDef;
// The embedded default is what the registered plugins contribute (as the real kmsg and journald do).
const sender = definePlugin({ kind: "sender", name: "kmsg", description: "k", schema: v.strictObject({}), embeddedDefault: { order: 10 }, create: () => ({ run: async () => {} }) });
const parser = definePlugin({ kind: "parser", name: "scsi", description: "s", schema: v.strictObject({}), create: () => ({ accepts: ["kmsg"] as const, parse() {} }) });
const registry = new Registry([recv("file"), recv("journald", undefined, undefined, { order: 60, instance: "journal", needs: "journald", slot: "output" }), recv("umh", v.strictObject({ command: v.string() }), "umh"), sender as never, parser as never]);

function write(name: string, text: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text);
  return p;
}

function errorsOf(path: string): string[] {
  try {
    loadConfig({ path, registry });
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split("\n");
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig()", () => {
  test("names instance, key path, file and line for a bad enum inside an inline table", () => {
    const p = write("a/storeventd.toml", `[main]\nhostname = "node-a"\n\n[journal]\ntype = "receiver"\nplugin = "journald"\nfilter = { severity = ["warn", "error", "critical"] }\n`);
    expect(errorsOf(p)).toEqual([`[journal] filter.severity[2]: expected one of info|warn|error, got "critical" (${p}:7)`]);
  });

  test("reports unknown keys with a did-you-mean hint, in plugins and in [main]", () => {
    const p = write("b/storeventd.toml", `[main]\nhostnme = "x"\n\n[log1]\nplugin = "file"\npath = "/tmp/x"\nfsynk = "always"\n`);
    expect(errorsOf(p)).toEqual([
      `[log1] fsynk: unknown key "fsynk" (did you mean "fsync"?) (${p}:7)`,
      `[main] hostnme: unknown key "hostnme" (did you mean "hostname"?) (${p}:2)`,
    ]);
  });

  test("unknown plugin names get a hint; a missing type is inferred when unambiguous", () => {
    const p = write("c/storeventd.toml", `[j]\nplugin = "jurnald"\n\n[k]\nplugin = "kmsg"\n`);
    expect(errorsOf(p)).toEqual([`[j] plugin: unknown plugin "jurnald" (did you mean "journald"?) (${p}:2)`]);
    const ok = write("c2/storeventd.toml", `[k]\nplugin = "kmsg"\n`);
    expect(loadConfig({ path: ok, registry }).instances.map((i) => [i.name, i.kind])).toEqual([["k", "sender"]]);
  });

  test("TOML syntax errors carry the line", () => {
    const p = write("d/storeventd.toml", `[main]\nhostname = "a"\nstate_dir = \n`);
    const [msg] = errorsOf(p);
    expect(msg).toContain(`(${p}:3)`);
    expect(msg).toContain("TOML syntax");
  });

  test("snippets in conf.d are parsed one by one; duplicates name both places", () => {
    const p = write("e/storeventd.toml", `[main]\nhostname = "a"\n[f1]\nplugin = "file"\npath = "/tmp/1"\n`);
    write("e/conf.d/10-more.toml", `[f2]\nplugin = "file"\npath = "/tmp/2"\n`);
    const cfg = loadConfig({ path: p, registry });
    expect(cfg.instances.map((i) => `${i.name}@${i.file.split("/").pop()}:${i.line}`)).toEqual(["f1@storeventd.toml:3", "f2@10-more.toml:1"]);
    write("e/conf.d/20-dup.toml", `\n[f1]\nplugin = "file"\n`);
    expect(errorsOf(p)).toEqual([`[f1]: instance "f1" is already defined in ${p}:3 (${join(dir, "e/conf.d/20-dup.toml")}:2)`]);
  });

  test("drbd-reactor files load unchanged; [[agentx]] maps to the agentx receiver", () => {
    const p = write("f/drbd-reactor.toml", `snippets = "./snips"\nstatistics-poll-interval = 30\n[[log]]\nlevel = "debug"\n[[umh]]\ncommand = "/bin/true"\n[[umh]]\ncommand = "/bin/false"\n`);
    const cfg = loadConfig({ path: p, registry });
    expect(cfg.instances.map((i) => `${i.name}:${i.plugin}:${i.kind}`)).toEqual(["umh[0]:umh:receiver", "umh[1]:umh:receiver"]);
    expect(cfg.drbdReactor).toEqual({ statisticsPollInterval: 30, log: [{ level: "debug" }] });
    const withAgentx = new Registry([recv("agentx", v.strictObject({ address: v.optional(v.string()) }), "agentx")]);
    const ax = write("g/drbd-reactor.toml", `[[agentx]]\naddress = "localhost:705"\n`);
    const axCfg = loadConfig({ path: ax, registry: withAgentx });
    expect(axCfg.instances.map((i) => `${i.name}:${i.plugin}:${i.kind}`)).toEqual(["agentx[0]:agentx:receiver"]);
    expect(axCfg.instances[0]!.options).toEqual({ address: "localhost:705" });
    const bad = write("g2/drbd-reactor.toml", `[[agentx]]\naddress = "localhost:705"\n[[promoter]]\n[promoter.resources.r0]\nstart = ["a.service"]\n`);
    const errs = errorsOf(bad);
    expect(errs).toEqual([
      `[[agentx]] #1: the agentx plugin is not supported yet (${bad}:1)`,
      `[[promoter]] #1: the promoter plugin is not supported yet (${bad}:3)`,
    ]);
  });

  test("durations and defaults in [main]", () => {
    const p = write("h/storeventd.toml", `[main]\ndedup_window = "250ms"\n`);
    const cfg = loadConfig({ path: p, registry });
    expect(cfg.main.dedup_window).toBe(250);
    expect(cfg.main.state_dir).toBe("/var/lib/storeventd");
    expect(cfg.main.hostname.length).toBeGreaterThan(0);
    const bad = write("i/storeventd.toml", `[main]\ndedup_window = "5 parsecs"\n`);
    expect(errorsOf(bad)[0]).toStartWith(`[main] dedup_window: expected a duration`);
  });

  test("an explicit path that does not exist is an error; the default path falls back to the embedded config", () => {
    expect(errorsOf(join(dir, "nope.toml"))[0]).toContain("cannot read");
    // The host's journald and drbdsetup are fixed here: whether this machine runs a journald is not the test's.
    const load = (journald: boolean) =>
      loadConfig({ registry, allowEmbedded: true, defaultPath: join(dir, "no-such-default.toml"), host: { journald, journal: true, drbdsetup: true } });
    const cfg = load(false);
    expect(cfg.embedded).toBe(true);
    expect(cfg.files).toEqual(["(embedded default)"]);
    expect(cfg.instances.map((i) => `${i.kind}:${i.name}`)).toEqual(["sender:kmsg"]); // only what is registered
    expect(load(true).instances.map((i) => `${i.kind}:${i.name}`)).toEqual(["sender:kmsg", "receiver:journal"]);
  });
});

