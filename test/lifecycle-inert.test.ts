// Every plugin: create() with its sample config builds an inert instance. Nothing it does may show
// on this process: no timer left armed, no new file descriptor (port, socket, file, pipe), no child
// process, no new file under state_dir or at a path the config names. start() is where those come.
import { DRBD_MODEL_SERVICE } from "../src/drbd/service.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import plugins from "../plugins/all.ts";
import { Registry } from "../src/registry.ts";
import { loadConfig } from "../src/config/load.ts";
import { DrbdModel } from "../src/drbd/model.ts";
import { decodeEvents2Text } from "../src/drbd/events2.ts";
import type { AnyPluginDef } from "../src/plugin-api.ts";
import { makeContext } from "./helpers/context.ts";

const registry = new Registry(plugins);
const tmp = mkdtempSync(join(tmpdir(), "core-life-inert-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Sample values that name programs or files of an example host, replaced by ones this host has
 * (create() checks them); everything else is the sample as shipped. */
const HOST_OVERRIDES: Record<string, Record<string, unknown>> = {
  exec: { command: ["/bin/cat"] },
  email: { password_file: undefined, username: undefined, password: undefined, ca_file: undefined },
  nats: { credentials: undefined, token_file: undefined, ca_file: undefined, cert_file: undefined, key_file: undefined },
  irc: { ca_file: undefined },
  mqtt: { username: undefined, password_file: undefined, ca_file: undefined },
};

/** Open fds as "number:target". An fd whose link can't be read was closed while listing: the
 * listing's own directory fd, whose number moves when another fd closes meanwhile (a CI run failed
 * on "10:?" so), or a transient one; neither is held, so neither is listed. */
function fds(): string[] {
  return readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      return [`${fd}:${require("node:fs").readlinkSync(`/proc/self/fd/${fd}`)}`];
    } catch {
      return [];
    }
  }).sort();
}

/** Fds (number and target) open now that were not in `before`. */
function opened(before: string[]): string[] {
  const was = new Set(before);
  return fds().filter((f) => !was.has(f));
}

/**
 * Timers armed while `f` runs (and not fired or cleared by the end of it) from code under `folder`.
 * bun runs every test file in one process: another file's leftovers may arm timers meanwhile, so a
 * timer counts only when the plugin's own code is on the stack that armed it.
 */
async function timersArmedBy(folder: string, f: () => Promise<unknown>): Promise<number> {
  const ours = () => (new Error().stack ?? "").includes(folder);
  const g = globalThis as unknown as Record<string, (...a: unknown[]) => unknown>;
  const orig = { setTimeout: g.setTimeout!, setInterval: g.setInterval!, clearTimeout: g.clearTimeout!, clearInterval: g.clearInterval! };
  const armed = new Set<unknown>();
  g.setTimeout = (fn: unknown, ms?: unknown, ...a: unknown[]) => {
    const h = orig.setTimeout(() => {
      armed.delete(h);
      (fn as (...x: unknown[]) => void)(...a);
    }, ms);
    if (ours()) armed.add(h);
    return h;
  };
  g.setInterval = (...a: unknown[]) => {
    const h = orig.setInterval(...a);
    if (ours()) armed.add(h);
    return h;
  };
  g.clearTimeout = (h: unknown) => (armed.delete(h), orig.clearTimeout(h));
  g.clearInterval = (h: unknown) => (armed.delete(h), orig.clearInterval(h));
  try {
    await f();
  } finally {
    Object.assign(g, orig);
  }
  return armed.size;
}

function children(): string {
  return readdirSync("/proc/self/task").map((t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/children`, "utf8");
    } catch {
      return "";
    }
  }).join("").trim();
}

/** Absolute paths among the options (files, unit dirs, sockets) and whether they exist. */
function paths(o: unknown, out: string[] = []): string[] {
  if (typeof o === "string" && o.startsWith("/")) out.push(o);
  else if (Array.isArray(o)) for (const x of o) paths(x, out);
  else if (o && typeof o === "object") for (const x of Object.values(o)) paths(x, out);
  return out;
}

function model(): DrbdModel {
  const m = new DrbdModel();
  const text = readFileSync(join(import.meta.dir, "drbd/streams/dump.events2"), "utf8");
  for (const r of decodeEvents2Text(text)) m.apply(r, () => {});
  return m;
}

function instancesOf(def: AnyPluginDef) {
  const cfg = loadConfig({ registry, text: def.sample!, path: `${def.kind}/${def.name}/sample.toml`, validate: false });
  return cfg.instances.filter((i) => i.plugin === def.name && i.kind === def.kind);
}

describe.each(plugins.map((p) => [`${p.kind}/${p.name}`, p] as const))("plugin %s", (_id, def) => {
  test("create() with the sample config has no side effects; close() of the inert instance is safe", async () => {
    const insts = instancesOf(def);
    expect(insts.length).toBeGreaterThan(0);
    for (const inst of insts) {
      const options = { ...(inst.options as Record<string, unknown>), ...HOST_OVERRIDES[def.name] };
      const stateDir = mkdtempSync(join(tmp, `${def.name}-`));
      const { ctx } = makeContext({ instance: inst.name, plugin: def.name, stateDir });
      const m = model();
      expect(m.isInitialized).toBe(true);
      ctx.services.provide(DRBD_MODEL_SERVICE, m);
      const named = paths(options);
      const existed = named.map(existsSync);
      const fdsBefore = fds();
      const kidsBefore = children();
      let instance: unknown;
      // Side effects that a plugin starts in the background (a connect, a spawn) show up shortly.
      const timers = await timersArmedBy(`/plugins/${def.kind}/${def.name}/`, async () => {
        instance = await def.create(options as never, ctx as never);
        await Bun.sleep(150);
      });
      expect(timers).toBe(0);
      // Only fds that appeared count: bun runs every file in one process, and another file's
      // leftover (a store closing its file) may close one of its own fds during the window.
      expect(opened(fdsBefore)).toEqual([]);
      expect(children()).toBe(kidsBefore);
      expect(readdirSync(stateDir)).toEqual([]);
      expect(named.map(existsSync)).toEqual(existed);
      await (instance as { close?: () => unknown }).close?.();
      await Bun.sleep(20);
      expect(children()).toBe(kidsBefore);
      expect(named.map(existsSync)).toEqual(existed);
    }
  });
});
