// Every plugin's documents: its sample.toml is a valid config for it, documents every option of its
// schema, and equals the README's Configuration block; the schema carries a description per option.
// (What every plugin does when run is test/compliance.test.ts.)
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import plugins from "../plugins/all.ts";
import { Registry } from "../src/registry.ts";
import { loadConfig } from "../src/config/load.ts";

const root = join(import.meta.dir, "..");
const registry = new Registry(plugins);

describe.each(plugins.map((p) => [`${p.kind}/${p.name}`, p] as const))("plugin %s", (id, def) => {
  const dir = join(root, "plugins", id);

  test("sample.toml loads with `check` rules and names this plugin", () => {
    expect(def.sample).toBeString();
    // The sample names files and programs of an example host (a password file, an alert script):
    // its shape is checked here; validate() against this host is not.
    const cfg = loadConfig({ registry, text: def.sample!, path: `${id}/sample.toml`, validate: false });
    expect(cfg.instances.some((i) => i.plugin === def.name && i.kind === def.kind)).toBe(true);
  });

  test("every schema option has a description and appears in sample.toml", () => {
    const entries = (def.schema as unknown as { entries?: Record<string, { pipe?: { type: string; description?: string }[] }> }).entries ?? {};
    for (const [key, schema] of Object.entries(entries)) {
      const desc = schema.pipe?.find((p) => p.type === "description")?.description;
      expect(desc, `${id}: option ${key} has no v.description()`).toBeString();
      expect(def.sample!, `${id}: option ${key} missing from sample.toml`).toMatch(new RegExp(`^#?\\s*${key.replace(/[-[\]]/g, "\\$&")}\\s*=`, "m"));
    }
  });

  test("README.md's Configuration block is sample.toml", () => {
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    const block = /## Configuration\s+```toml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync(join(dir, "sample.toml"), "utf8"));
  });
});
