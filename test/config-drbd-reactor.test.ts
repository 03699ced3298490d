// drbd-reactor compatibility with the real plugin set: one events2 source feeds its plugins.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import plugins from "../plugins/all.ts";
import { loadConfig } from "../src/config/load.ts";
import { Registry } from "../src/registry.ts";

const dir = mkdtempSync(join(tmpdir(), "storeventd-drcfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function write(name: string, text: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, text);
  return p;
}

describe("drbd-reactor's single events2 source", () => {
  test("[[umh]] without a [drbd] table implies the drbd sender, with the top-level poll interval", async () => {
    const reg = new Registry(plugins);
    const p = write("dr1/drbd-reactor.toml", `statistics-poll-interval = 30\n[[umh]]\n[[umh.resource]]\ncommand = "/bin/true"\n`);
    const cfg = loadConfig({ path: p, registry: reg });
    const drbd = cfg.instances.find((i) => i.kind === "sender" && i.plugin === "drbd")!;
    expect(drbd.file).toBe("(implied by the drbd-reactor plugins)");
    expect((drbd.options as Record<string, number>)["statistics-poll-interval"]).toBe(30_000);
    const own = write("dr2/storeventd.toml", `statistics-poll-interval = 30\n[drbd]\ntype = "sender"\n"statistics-poll-interval" = 5\n[other]\ntype = "sender"\nplugin = "drbd"\n`);
    const two = loadConfig({ path: own, registry: reg }).instances.filter((i) => i.plugin === "drbd");
    expect(two.map((i) => (i.options as Record<string, number>)["statistics-poll-interval"])).toEqual([5000, 30_000]);
    const none = write("dr3/storeventd.toml", `[main]\nhostname = "x"\n`);
    expect(loadConfig({ path: none, registry: reg }).instances.some((i) => i.plugin === "drbd")).toBe(false);
  });
});
