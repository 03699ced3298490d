// The committed docs are what the code generates (docs/gen-docs.ts): a changed schema description,
// --help text or event type declaration fails here with the diff and the command that fixes it.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import plugins from "../plugins/all.ts";
import { collectCatalog } from "../src/catalog.ts";
import { generateDocs, REGENERATE, ROOT } from "../docs/gen-docs.ts";
import { tableTypes } from "../plugins/receiver/journald/message-ids.ts";

function unifiedDiff(path: string, committed: string, generated: string): string {
  const dir = mkdtempSync(join(tmpdir(), "docs18-drift-"));
  try {
    writeFileSync(join(dir, "generated"), generated);
    writeFileSync(join(dir, "committed"), committed);
    const r = Bun.spawnSync(["diff", "-u", "--label", `${path} (committed)`, "--label", `${path} (generated)`, join(dir, "committed"), join(dir, "generated")]);
    return r.stdout.toString().split("\n").slice(0, 80).join("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("generated docs", () => {
  test("every generated file is committed as generated (else run `npm run docs`)", async () => {
    const docs = await generateDocs();
    expect(docs.size).toBeGreaterThanOrEqual(4);
    const drifted: string[] = [];
    for (const [path, text] of docs) {
      const file = join(ROOT, path);
      const committed = existsSync(file) ? readFileSync(file, "utf8") : "";
      if (committed !== text) drifted.push(path);
      if (committed !== text) console.error(`${path} differs from the code; run \`${REGENERATE}\` and commit:\n${unifiedDiff(path, committed, text)}`);
    }
    expect(drifted).toEqual([]);
  });

  test("the journald MESSAGE_ID table lists exactly the declared catalog", () => {
    const readme = readFileSync(join(ROOT, "plugins/receiver/journald/README.md"), "utf8");
    expect(tableTypes(readme)).toEqual(collectCatalog(plugins).map((e) => e.type));
  });

  test("docs/events.md names every declared type and docs/cli.md every command", async () => {
    const events = readFileSync(join(ROOT, "docs/events.md"), "utf8");
    for (const e of collectCatalog(plugins)) expect(events).toContain(`#### \`${e.type}\``);
    const cli = readFileSync(join(ROOT, "docs/cli.md"), "utf8");
    for (const c of ["run", "check", "replay", "monitor", "query", "status", "info", "version"]) expect(cli).toContain(`## storeventd ${c}\n`);
  });

  test("docs/control-api.md (written by hand) names every route the code serves", () => {
    const doc = readFileSync(join(ROOT, "docs/control-api.md"), "utf8");
    const routes = new Set<string>();
    // The core's routes and those plugins contribute (PluginDef.routes), from their folders' sources.
    const routeOwners = plugins.filter((d) => d.routes?.length).map((d) => `plugins/${d.kind}/${d.name}`);
    for (const dir of ["src/control", "src/web", ...routeOwners]) {
      for (const f of readdirSync(join(ROOT, dir)).filter((n) => n.endsWith(".ts") && !n.endsWith(".test.ts"))) {
        for (const m of readFileSync(join(ROOT, dir, f), "utf8").matchAll(/"(\/v1\/[a-z0-9/]*[a-z0-9]|\/metrics|\/login)\/?"/g)) routes.add(m[1]!);
      }
    }
    expect(routes.size).toBeGreaterThan(8);
    expect([...routes].filter((r) => !doc.includes(`\`${r}`) && !doc.includes(` ${r}`))).toEqual([]);
  });

  test("docs/control-api.md documents every /v1/events parameter the code accepts", () => {
    const doc = readFileSync(join(ROOT, "docs/control-api.md"), "utf8");
    const src = readFileSync(join(ROOT, "src/control/read-routes.ts"), "utf8");
    const set = /const EVENT_PARAMS = new Set\(\[([^\]]*)\]\)/.exec(src);
    expect(set).not.toBeNull();
    const params = [...set![1]!.matchAll(/"(\w+)"/g)].map((m) => m[1]!);
    expect(params.length).toBeGreaterThan(5);
    expect(params.filter((p) => !new RegExp(`\`${p}\`|[?&]${p}=`).test(doc))).toEqual([]);
  });
});
