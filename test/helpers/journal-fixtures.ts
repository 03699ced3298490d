// Journal fixtures of the userspace-daemon parsers: plugins/parser/<name>/testdata/*.journal.
// One entry per line, tab-separated: IDENTIFIER, PRIORITY (syslog name or 0..7), MESSAGE, and what
// it must give: "EVENT_TYPE severity dev_name" (dev_name "" as ""), or "-" when the line only adds
// to another event (or gives none). "#" lines name the daemon's source file and version of the
// format the following lines follow. The same lines are written with `logger` in the e2e tests.
import { readFileSync } from "node:fs";
import type { EventDraft, JournalRecord, Parser } from "../../src/plugin-api.ts";

export const PRIORITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"] as const;

export interface JournalFixtureLine {
  daemon: string;
  priority: number;
  msg: string;
  /** [event_type, severity, dev_name], or undefined for "-". */
  expect?: [string, string, string];
  line: number;
}

export function readJournalFixture(path: string): JournalFixtureLine[] {
  const out: JournalFixtureLine[] = [];
  readFileSync(path, "utf8").split("\n").forEach((text, i) => {
    if (!text.trim() || text.startsWith("#")) return;
    const [daemon, prio, msg, want] = text.split("\t");
    if (!daemon || prio === undefined || msg === undefined || want === undefined) throw new Error(`${path}:${i + 1}: needs 4 tab-separated columns`);
    const p = /^\d$/.test(prio) ? Number(prio) : PRIORITIES.indexOf(prio as (typeof PRIORITIES)[number]);
    if (p < 0) throw new Error(`${path}:${i + 1}: bad priority ${prio}`);
    let expect: JournalFixtureLine["expect"];
    if (want !== "-") {
      const [t, s, d] = want.split(" ");
      expect = [t!, s!, d === '""' || d === undefined ? "" : d];
    }
    out.push({ daemon, priority: p, msg, expect, line: i + 1 });
  });
  return out;
}

/** Fixture wall clock: 2026-01-01T00:00:00Z plus one millisecond per line. */
export const JOURNAL_FIXTURE_START_US = 1_767_225_600_000_000;

export function fixtureRecord(l: JournalFixtureLine, pid = 4242): JournalRecord {
  return {
    kind: "journal", source: "journal", daemon: l.daemon, priority: l.priority, pid, transport: "syslog", cursor: "",
    msg: l.msg, time_us: JOURNAL_FIXTURE_START_US + l.line * 1000, raw: `${l.daemon}[${pid}]: ${l.msg}`,
  };
}

/** The parser's events for the fixture, flushed at the end. */
export function runJournalFixture(parser: Parser, lines: JournalFixtureLine[]): EventDraft[] {
  const out: EventDraft[] = [];
  const emit = (d: EventDraft) => void out.push(d);
  for (const l of lines) parser.parse(fixtureRecord(l), emit);
  parser.flush?.(emit, true);
  return out;
}

/** What the fixture says the events are, in order: [event_type, severity, dev_name]. */
export function expectedEvents(lines: JournalFixtureLine[]): [string, string, string][] {
  return lines.filter((l) => l.expect).map((l) => l.expect!);
}
