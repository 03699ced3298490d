// The severity table of plugins/parser/README.md is the one policy for every kernel-log parser:
// every fixture's expected event (kernel cases and journal lines) and every event the real-world corpus expects has a type the
// table lists and a severity the table allows for it, and every listed type has a fixture.
import { expect, test } from "bun:test";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { expectedEvents, fixtureCases } from "./helpers/parser-fixtures.ts";
import { expectedEvents as journalExpected, readJournalFixture } from "./helpers/journal-fixtures.ts";

const PARSERS = join(import.meta.dir, "../plugins/parser");

function table(): Map<string, Set<string>> {
  const readme = readFileSync(join(PARSERS, "README.md"), "utf8");
  const rows = new Map<string, Set<string>>();
  for (const m of readme.matchAll(/^\| ([A-Z][A-Z_]+) \| (.+) \|$/gm)) {
    rows.set(m[1]!, new Set(m[2]!.match(/\b(error|warn|info)\b/g) ?? []));
  }
  return rows;
}

test("the README table lists each event type once, each with at least one severity", () => {
  const rows = table();
  expect(rows.size).toBeGreaterThan(30);
  for (const [type, sev] of rows) expect({ type, n: sev.size > 0 }).toEqual({ type, n: true });
});

test("every parser fixture's expected events follow the severity table", () => {
  const rows = table();
  const seen = new Set<string>();
  const bad: string[] = [];
  for (const p of readdirSync(PARSERS, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    const testdata = join(PARSERS, p.name, "testdata");
    if (!existsSync(testdata)) continue;
    for (const c of fixtureCases(testdata)) {
      for (const e of expectedEvents(join(testdata, c))) {
        seen.add(e.event_type);
        const allowed = rows.get(e.event_type);
        if (!allowed?.has(e.severity)) bad.push(`${p.name}/${c}: ${e.event_type} ${e.severity} (table: ${[...(allowed ?? [])].join("/") || "missing"})`);
      }
    }
    // userspace daemons' journal lines (testdata/*.journal: the expected type and severity per line)
    for (const f of readdirSync(testdata).filter((n) => n.endsWith(".journal"))) {
      for (const [type, severity] of journalExpected(readJournalFixture(join(testdata, f)))) {
        seen.add(type);
        const allowed = rows.get(type);
        if (!allowed?.has(severity)) bad.push(`${p.name}/${f}: ${type} ${severity} (table: ${[...(allowed ?? [])].join("/") || "missing"})`);
      }
    }
  }
  expect(bad).toEqual([]);
  expect([...rows.keys()].filter((t) => !seen.has(t))).toEqual([]);
});

test("the real-world corpus expects severities by the same table", () => {
  const rows = table();
  const text = readFileSync(join(import.meta.dir, "corpus/storage-logs.txt"), "utf8");
  const bad = [...text.matchAll(/^#= (\S+) \S+ (\S+)/gm)].filter((m) => !rows.get(m[1]!)?.has(m[2]!)).map((m) => m[0]);
  expect(bad).toEqual([]);
});
