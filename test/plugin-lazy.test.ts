// plugins/all.ts lists every plugin with facts recorded when it was generated; the module loads at
// first use. The facts must be what the module says now, every plugin folder must be listed, and
// a lazy definition must answer like the module's own.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import plugins from "../plugins/all.ts";
import type { AnyPluginDef } from "../src/plugin-api.ts";
import { FACT_KEYS, lazyPlugin } from "../src/plugin-lazy.ts";

const root = join(import.meta.dir, "../plugins");
const folders = ["sender", "parser", "receiver"].flatMap((k) =>
  readdirSync(join(root, k)).filter((n) => existsSync(join(root, k, n, "index.ts"))).map((n) => ({ kind: k, name: n })));

async function real(kind: string, name: string): Promise<AnyPluginDef> {
  return (await import(join(root, kind, name, "index.ts"))).default as AnyPluginDef;
}

describe("plugins/all.ts", () => {
  test("lists every plugin folder once", () => {
    expect(plugins.map((p) => `${p.kind}/${p.name}`).sort()).toEqual(folders.map((f) => `${f.kind}/${f.name}`).sort());
  });

  test("its facts are the modules' own (run `npm run gen` after changing one)", async () => {
    for (const p of plugins) {
      const d = await real(p.kind, p.name);
      for (const k of FACT_KEYS) expect({ plugin: p.name, key: k, value: p[k] }).toEqual({ plugin: p.name, key: k, value: d[k] });
      expect(Object.entries(p.commands ?? {}).map(([n, c]) => [n, c.summary, c.after])).toEqual(Object.entries(d.commands ?? {}).map(([n, c]) => [n, c.summary, c.after]));
      expect((p.routes ?? []).map((r) => r.prefix)).toEqual((d.routes ?? []).map((r) => r.prefix));
    }
  });

  test("the rest of a definition is the module's own", async () => {
    for (const p of plugins) {
      const d = await real(p.kind, p.name);
      expect(p.schema).toBe(d.schema);
      expect(p.create).toBe(d.create);
      expect(p.validate).toBe(d.validate);
      expect(p.sample).toBe(d.sample);
      expect(p.emits).toBe(d.emits);
      expect(p.replay).toBe(d.replay);
      expect(p.ctl).toBe(d.ctl);
    }
  });
});

describe("lazyPlugin", () => {
  test("loads the module once, at the first read of what is not a fact; commands and routes run the module's", async () => {
    let loads = 0;
    const calls: string[] = [];
    const def = {
      kind: "receiver", name: "x", description: "d", schema: { s: 1 }, create: () => ({}),
      commands: { hello: { summary: "says hello", after: "run", run: async (argv: string[]) => (calls.push(`cmd ${argv.join(" ")}`), 7) } },
      routes: [{ prefix: "/v1/x", handle: (req: Request) => (calls.push(`route ${new URL(req.url).pathname}`), Promise.resolve(new Response("ok"))) }],
    } as unknown as AnyPluginDef;
    const lazy = lazyPlugin({ kind: "receiver", name: "x", description: "d", commands: { hello: { summary: "says hello", after: "run" } }, routes: [{ prefix: "/v1/x" }] }, () => (loads++, def));
    expect([lazy.kind, lazy.name, lazy.commands!.hello!.summary, lazy.routes![0]!.prefix, loads]).toEqual(["receiver", "x", "says hello", "/v1/x", 0]);
    expect(await lazy.commands!.hello!.run(["a", "b"], {} as never)).toBe(7);
    expect(loads).toBe(1);
    expect(lazy.schema).toBe(def.schema);
    await lazy.routes![0]!.handle(new Request("http://h/v1/x/y"), {} as never);
    expect(calls).toEqual(["cmd a b", "route /v1/x/y"]);
    expect(loads).toBe(1);
  });
});
