// Every event a parser's or sender's fixtures expect is declared by that plugin (PluginDef.emits):
// its type, system, severity and extension keys. A new event type, severity or key fails here until
// it is declared in plugins/<kind>/<name>/events.ts; then `npm run docs` regenerates the catalog.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import plugins from "../plugins/all.ts";
import { collectCatalog, COMMON_EXTENSION, CORE_EVENTS } from "../src/catalog.ts";
import type { DeviceDirectory, EventDraft, EventTypeDecl } from "../src/plugin-api.ts";
import { decodeEvents2Text } from "../src/drbd/events2.ts";
import { DrbdModel } from "../src/drbd/model.ts";
import { makeParser, readKmsgFixture, runParser } from "./helpers/parser-fixtures.ts";
import { readJournalFixture, runJournalFixture } from "./helpers/journal-fixtures.ts";

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

/** What in `e` its declaration in `decls` does not cover, each as one line for the failure. */
function undeclared(at: string, e: Pick<EventDraft, "event_type" | "system" | "severity" | "extension">, decls: readonly EventTypeDecl[], where: string): string[] {
  const d = decls.find((x) => x.type === e.event_type);
  if (!d) return [`${at}: ${e.event_type} is not declared (add it to ${where})`];
  const bad: string[] = [];
  if (d.system !== e.system) bad.push(`${at}: ${e.event_type} has system ${e.system}, declared ${d.system}`);
  if (!d.severity.includes(e.severity)) bad.push(`${at}: ${e.event_type} has severity ${e.severity}, declared ${d.severity.join("|")} (in ${where})`);
  for (const k of Object.keys(e.extension ?? {})) {
    if (!(k in d.extension) && !(k in COMMON_EXTENSION)) bad.push(`${at}: ${e.event_type} sets extension.${k}, not declared in ${where}`);
  }
  return bad;
}

// A quoted UPPER_SNAKE string with an event type's prefix, anywhere in the code: a new event type
// fails the last test below until it is declared, even before a fixture produces it.
const EVENT_TYPE_LITERAL = /"((?:SCSI|BLK|NVME|ATA|DM|MD|FS|ISCSI|LVM|SMART|DEVICE|MEDIA|DRBD|DAEMON|KMSG|RECEIVER|HOST)_[A-Z0-9_]+)"/g;
const NOT_EVENT_TYPES = new Set([
  "DRBD_KERNEL_VERSION_CODE", // a drbdsetup/drbdadm version field (prometheus, agentx)
  "SCSI_EH_SESSION_RST", // an iSCSI error name (ISCSI_ERR_SCSI_EH_SESSION_RST)
]);

describe("event type catalog", () => {
  test("collectCatalog() merges every declaration without a conflicting system", () => {
    const cat = collectCatalog(plugins);
    expect(cat.length).toBeGreaterThan(50);
    expect(new Set(cat.map((e) => e.type)).size).toBe(cat.length);
  });

  test("every declared type has a doc, a severity (several: a `when` naming each) and a meaning for each extension key", () => {
    const bad: string[] = [];
    for (const e of collectCatalog(plugins)) {
      if (!/^[A-Z][A-Z0-9_]*$/.test(e.type)) bad.push(`${e.type}: not UPPER_SNAKE`);
      if (e.severity.length === 0) bad.push(`${e.type}: no severity`);
      for (const d of e.docs) if (!d.doc.trim()) bad.push(`${e.type} (${d.origin}): empty doc`);
      for (const d of [...CORE_EVENTS.flatMap((c) => c.events), ...plugins.flatMap((p) => p.emits ?? [])].filter((x) => x.type === e.type)) {
        const named = new Set(d.when?.match(/\b(error|warn|info)\b/g) ?? []);
        if (d.severity.length > 1 && !d.when) bad.push(`${e.type}: ${d.severity.join(", ")} without \`when\``);
        if (d.when && [...named].sort().join() !== [...d.severity].sort().join()) bad.push(`${e.type}: \`when\` names ${[...named].join(", ")}, severity is ${d.severity.join(", ")}`);
      }
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
            bad.push(...undeclared(`${relative(root, file)}:${i + 1}`, e as never, def?.emits ?? [], where));
          });
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(bad).toEqual([]);
  });

  test("every event the kernel-log parsers give on test/corpus/*.txt is declared by its parser", async () => {
    const devices = { identify: (n: string) => ({ dev_name: n, dev_path: "", dev_wwid: "", owners: [] }) } as unknown as DeviceDirectory;
    const bad: string[] = [];
    let checked = 0;
    for (const file of ["storage-logs.txt", "held-out.txt"]) {
      const lines = readFileSync(join(root, "test/corpus", file), "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("#"));
      const recs = readKmsgFixture(lines.join("\n") + "\n", "kmsg");
      for (const def of plugins.filter((p) => p.kind === "parser")) {
        const { parser } = await makeParser(def, def.name === "fs" ? { mountinfo: "/nonexistent" } : {}, { devices });
        for (const e of runParser(parser, recs)) {
          checked++;
          bad.push(...undeclared(`test/corpus/${file} (parser ${def.name})`, e, def.emits ?? [], `plugins/parser/${def.name}/events.ts`));
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect([...new Set(bad)]).toEqual([]);
  });

  test("every event a parser gives on its testdata/*.journal fixtures is declared by it", async () => {
    const bad: string[] = [];
    let checked = 0;
    for (const def of plugins.filter((p) => p.kind === "parser")) {
      const dir = join(root, "plugins/parser", def.name, "testdata");
      for (const f of existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith(".journal")) : []) {
        const { parser } = await makeParser(def);
        for (const e of runJournalFixture(parser, readJournalFixture(join(dir, f)))) {
          checked++;
          bad.push(...undeclared(`plugins/parser/${def.name}/testdata/${f}`, e, def.emits ?? [], `plugins/parser/${def.name}/events.ts`));
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect([...new Set(bad)]).toEqual([]);
  });

  test("every event the DRBD model gives on test/drbd/streams/*.events2 is declared in src/catalog.ts", () => {
    const decls = CORE_EVENTS.flatMap((c) => c.events);
    const bad: string[] = [];
    let checked = 0;
    const dir = join(root, "test/drbd/streams");
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".events2"))) {
      const model = new DrbdModel();
      for (const rec of decodeEvents2Text(readFileSync(join(dir, f), "utf8"))) {
        model.apply(rec, (e) => {
          checked++;
          bad.push(...undeclared(`test/drbd/streams/${f}`, e, decls, "src/catalog.ts"));
        });
      }
    }
    expect(checked).toBeGreaterThan(5);
    expect([...new Set(bad)]).toEqual([]);
  });

  test("every event-type-like string literal in src/ and plugins/ is a declared type", () => {
    const declared = new Set(collectCatalog(plugins).map((e) => e.type));
    const bad: string[] = [];
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
      const p = join(dir, d.name);
      if (d.isDirectory()) return d.name === "testdata" || d.name === "node_modules" ? [] : walk(p);
      return p.endsWith(".ts") && !p.endsWith(".test.ts") ? [p] : [];
    });
    for (const file of [...walk(join(root, "src")), ...walk(join(root, "plugins"))]) {
      readFileSync(file, "utf8").split("\n").forEach((line, i) => {
        for (const m of line.matchAll(EVENT_TYPE_LITERAL)) {
          if (!declared.has(m[1]!) && !NOT_EVENT_TYPES.has(m[1]!)) {
            bad.push(`${relative(root, file)}:${i + 1}: ${m[1]} is not declared: add it to the emitting plugin's events.ts (the core's: src/catalog.ts) and run \`npm run docs\`; if it is no event type, list it in NOT_EVENT_TYPES in test/catalog.test.ts`);
          }
        }
      });
    }
    expect(bad).toEqual([]);
  });
});
