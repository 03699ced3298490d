// ctl's status sections, ls lines, stops, edit checks and verbs come only from the plugins' ctl
// contributions: a build with a made-up [[zz]] table shows it in ls/status/--json and runs its
// verb; a build without the promoter has no "promoter" key and no evict.
import { afterAll, beforeEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import plugins from "../../plugins/all.ts";
import { type AnyPluginDef, definePlugin } from "../../src/plugin-api.ts";
import { ctlCommand } from "../../src/ctl/cli.ts";

const root = mkdtempSync(join(tmpdir(), "storeventd-arch18c-ctl-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, "d");
const cfg = join(root, "drbd-reactor.toml");
mkdirSync(dir);
writeFileSync(cfg, `snippets = "${dir}"\n`);
writeFileSync(join(dir, "a.toml"), `[[zz]]\nsize = 3\n[[zz]]\n`);
writeFileSync(join(dir, "b.toml.disabled"), `[[zz]]\nsize = 7\n`);
writeFileSync(join(dir, "p.toml"), `[[prometheus]]\n`);

const seen: string[] = [];
const zz = definePlugin({
  kind: "receiver", name: "zz", reactorTable: "zz", description: "test table", schema: v.object({}), sample: "",
  create: () => ({ send() {}, async close() {} }),
  ctl: {
    order: 0,
    read: (e) => ({ size: typeof e.size === "number" ? e.size : 1 }),
    status: {
      key: "zeds",
      items: (e, at) => [{ size: e.size, on: at.enabled }],
      json: (x: { size: number }) => ({ n: x.size }),
      text: (x: { size: number; on: boolean }) => `ZZ ${x.size}${x.on ? "" : " off"}\n`,
      ls: (e, on) => [`- ZZ: ${e.size}${on ? "" : " (disabled)"}`],
    },
    verbs: {
      evict: (c) => {
        for (const p of c.pick(c.args, "enabled", true)) seen.push(`${c.read(p).entries.map((e) => e.size).join(",")}/${c.read(p).plugins}`);
      },
    },
  },
}) as unknown as AnyPluginDef;

let stdout = "";
beforeEach(() => {
  stdout = "";
});

async function ctl(argv: string[], defs: AnyPluginDef[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await ctlCommand(["-c", cfg, "--local", ...argv], { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, write: (s) => void (stdout += s) }, defs);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const withZz = [zz, ...plugins.filter((d) => d.name === "prometheus")];

test("a contributed table's ls lines, status text and --json key come from its plugin, in its order", async () => {
  expect((await ctl(["ls"], withZz)).out).toBe(`${dir}/a.toml:\n- ZZ: 3\n- ZZ: 1\n${dir}/p.toml:\n- Prometheus: :9942\n${dir}/b.toml.disabled:\n- ZZ: 7 (disabled)`);
  expect((await ctl(["status", "--json"], withZz)).code).toBe(0);
  expect(JSON.parse(stdout)).toEqual({ zeds: [{ n: 3 }, { n: 1 }, { n: 7 }], prometheus: [{ path: `${dir}/p.toml`, enabled: true, address: ":9942", status: "active" }] });
  stdout = "";
  await ctl(["status"], withZz);
  expect(stdout).toBe(`ZZ 3\nZZ 1\nZZ 7 off\n${dir}/p.toml:\nPrometheus: listening on :9942\n\n`);
});

test("a verb a plugin owns runs with its table's entries; without the promoter there is no promoter key or evict", async () => {
  expect((await ctl(["evict", "a"], withZz)).code).toBe(0);
  expect(seen).toEqual(["3,1/2"]);
  const noPromoter = plugins.filter((d) => d.name !== "promoter");
  writeFileSync(join(dir, "r.toml"), `[[promoter]]\n[promoter.resources.r0]\nstart = ["a.service"]\n`);
  try {
    await ctl(["status", "--json"], noPromoter);
    expect(Object.keys(JSON.parse(stdout))).toEqual(["prometheus", "debugger", "umh", "agentx"]);
    const r = await ctl(["evict", "r"], noPromoter);
    expect([r.code, r.out, r.err]).toEqual([0, "", ""]);
  } finally {
    rmSync(join(dir, "r.toml"));
  }
});
