// Every event a parser's or sender's fixtures expect is declared by that plugin (PluginDef.emits):
// its type, system, severity and extension keys. A new event type, severity or key fails here until
// it is declared in plugins/<kind>/<name>/events.ts; then `npm run docs` regenerates the catalog.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import plugins from "../plugins/all.ts";
import { collectCatalog, COMMON_EXTENSION } from "../src/catalog.ts";

const root = join(import.meta.dir, "..");

function ndjsonFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) ndjsonFiles(p, out);
    else if (f.endsWith(".ndjson")) out.push(p);
  }
  return out;
}

describe("event type catalog", () => {
  test("collectCatalog() merges every declaration without a conflicting system", () => {
    const cat = collectCatalog(plugins);
    expect(cat.length).toBeGreaterThan(50);
    expect(new Set(cat.map((e) => e.type)).size).toBe(cat.length);
  });

  test("every declared type has a doc, a severity and a meaning for each extension key", () => {
    const bad: string[] = [];
    for (const e of collectCatalog(plugins)) {
      if (!/^[A-Z][A-Z0-9_]*$/.test(e.type)) bad.push(`${e.type}: not UPPER_SNAKE`);
      if (e.severity.length === 0) bad.push(`${e.type}: no severity`);
      for (const d of e.docs) if (!d.doc.trim()) bad.push(`${e.type} (${d.origin}): empty doc`);
      for (const [k, m] of Object.entries(e.extension)) if (!m.trim()) bad.push(`${e.type}: extension.${k} has no meaning`);
    }
    expect(bad).toEqual([]);
  });

  test("every event in plugins/{parser,sender}/*/testdata is declared by its plugin", () => {
    const bad: string[] = [];
    let checked = 0;
    for (const kind of ["parser", "sender"] as const) {
      for (const name of readdirSync(join(root, "plugins", kind))) {
        const files = ndjsonFiles(join(root, "plugins", kind, name, "testdata"));
        const def = plugins.find((p) => p.kind === kind && p.name === name);
        const where = `plugins/${kind}/${name}/events.ts`;
        for (const file of files) {
          readFileSync(file, "utf8").split("\n").forEach((line, i) => {
            if (!line.trim()) return;
            const e = JSON.parse(line) as Record<string, unknown>;
            if (typeof e.event_type !== "string") return; // raw records, not events
            checked++;
            const at = `${relative(root, file)}:${i + 1}: ${e.event_type}`;
            const d = def?.emits?.find((x) => x.type === e.event_type);
            if (!d) return void bad.push(`${at} is not declared (add it to ${where})`);
            if (d.system !== e.system) bad.push(`${at} has system ${e.system}, declared ${d.system}`);
            if (!d.severity.includes(e.severity as never)) bad.push(`${at} has severity ${e.severity}, declared ${d.severity.join("|")}`);
            for (const k of Object.keys((e.extension ?? {}) as object)) {
              if (!(k in d.extension) && !(k in COMMON_EXTENSION)) bad.push(`${at} sets extension.${k}, not declared in ${where}`);
            }
          });
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(bad).toEqual([]);
  });
});
