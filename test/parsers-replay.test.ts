// The compiled binary, as a user runs it: `storeventd replay --kmsg FILE --json` over every
// kernel-log parser fixture, with only that fixture's parser configured, prints the events of the
// fixture's expected.ndjson (written from the kernel format strings, not by running the parsers),
// completed by the core. Identical raw kernel text may fold; every distinct expected event appears.
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatTime } from "../src/event.ts";
import { runBin } from "./helpers/bin.ts";
import { FIXTURE_BOOT_US, expectedEvents, fixtureCases } from "./helpers/parser-fixtures.ts";

const PARSERS = ["scsi", "block", "nvme", "ata", "iscsi", "mdraid"];
const tmp = mkdtempSync(join(tmpdir(), "parsers-replay-"));
const cases = PARSERS.flatMap((p) => {
  const dir = join(import.meta.dir, "../plugins/parser", p, "testdata");
  return fixtureCases(dir).map((c) => ({ parser: p, name: `${p}/${c}`, dir: join(dir, c) }));
});

type Ev = { event_type: string; dev_name?: string; msg: string; raw?: string; severity: string; extension?: Record<string, unknown> };
const key = (e: Ev) => JSON.stringify([e.event_type, e.dev_name ?? "", e.severity, e.msg, e.raw, e.extension ?? {}]);

test.each(cases.map((c) => [c.name, c]))("replay --kmsg %s prints the fixture's expected events", async (_name, c) => {
  const config = join(tmp, `${c.parser}.toml`);
  writeFileSync(config, `[${c.parser}]\ntype = "parser"\n`);
  const want = expectedEvents(c.dir);
  const boot = new Date(FIXTURE_BOOT_US / 1000).toISOString();
  const { code, stdout, stderr } = await runBin(["replay", "-c", config, "--kmsg", join(c.dir, "input.kmsg"), "--json", "--boot-time", boot]);
  expect(code).toBe(0);
  const got = stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const folded = Number(/, (\d+) folded/.exec(stderr)?.[1] ?? 0);
  const gotKeys = got.map((e) => {
    const { repeat: _r, ...extension } = e.extension ?? {};
    return key({ ...e, extension });
  });
  // The same distinct events, none lost to an over-eager fold, none added.
  expect([...new Set(gotKeys)].sort()).toEqual([...new Set(want.map((d) => key(d as Ev)))].sort());
  expect(got.length + folded).toBe(want.length);
  for (const e of got) expect(e.source).toBe("kmsg");
  // The kernel timestamp is the event time.
  for (const e of got) expect(want.some((d) => formatTime(d.time_us!) === e.time)).toBe(true);
});
