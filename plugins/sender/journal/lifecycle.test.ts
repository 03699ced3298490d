// The journal sender in-process: create() is inert, start() opens the reader (journalctl child or
// sd-journal thread) on a journald of the test's own, close() writes the cursor; config errors.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import plugin, { schema } from "./index.ts";
import { makeContext } from "../../../test/helpers/context.ts";
import { startJournalNamespace, type JournalNamespace } from "../../../test/helpers/journald.ts";
import { waitFor } from "../../../test/helpers/wait.ts";
import type { JournalRecord, Sender } from "../../../src/plugin-api.ts";

let jd: JournalNamespace;
let dir: string;
beforeAll(async () => {
  jd = await startJournalNamespace("j21life");
  dir = mkdtempSync(join(tmpdir(), "journal21-life-"));
});
afterAll(async () => {
  await jd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function childrenOfUs(): string[] {
  const p = Bun.spawnSync(["pgrep", "-P", String(process.pid), "-a"]);
  return p.stdout.toString().trim().split("\n").filter((l) => l.includes("journalctl"));
}

for (const reader of ["journalctl", "sd-journal"] as const) {
  test(`${reader}: create() starts nothing; start() follows the journal; close() saves the cursor`, async () => {
    const { ctx, rec, abort } = makeContext({ stateDir: join(dir, reader), instance: "journal" });
    const config = v.parse(schema, { namespace: jd.ns, reader, from: "boot" });
    const s = (await plugin.create(config, ctx)) as Sender;
    expect(s.status!()).toMatchObject({ reader: "not started" });
    expect(childrenOfUs()).toEqual([]);
    await s.start!();
    expect(s.status!()).toMatchObject({ reader });
    if (reader === "journalctl") expect(childrenOfUs().length).toBe(1);
    const done = s.run();
    Bun.spawnSync(["logger", "-u", `/run/systemd/journal.${jd.ns}/dev-log`, "-t", "smartd", "-p", "daemon.crit", "--", "Device: /dev/sdq, FAILED SMART self-check. BACK UP DATA NOW!"]);
    Bun.spawnSync(["logger", "-u", `/run/systemd/journal.${jd.ns}/dev-log`, "-t", "unrelated", "--", "not a storage daemon"]);
    const got = await waitFor(() => (rec.records.length ? (rec.records as JournalRecord[]) : undefined), 5000, "the smartd entry");
    await Bun.sleep(300);
    expect(rec.records.length).toBe(reader === "journalctl" ? 1 : 2); // the second test reads the first's entry too (from = "boot")
    const last = got.at(-1)!;
    expect(last).toMatchObject({ kind: "journal", daemon: "smartd", priority: 2, transport: "syslog", msg: "Device: /dev/sdq, FAILED SMART self-check. BACK UP DATA NOW!" });
    expect(last.pid).toBeGreaterThan(0);
    expect(last.cursor).toStartWith("s=");
    abort.abort();
    await done;
    expect(JSON.parse(readFileSync(join(dir, reader, "journal.cursor"), "utf8"))).toEqual({ cursor: last.cursor });
    if (reader === "journalctl") await waitFor(() => childrenOfUs().length === 0, 3000, "journalctl to exit");
  }, 20_000);
}

test("config errors: namespace and directory together, no daemons", async () => {
  const { ctx } = makeContext();
  expect(() => plugin.create(v.parse(schema, { namespace: "a", directory: "/b" }), ctx)).toThrow("namespace or directory");
  expect(() => plugin.create(v.parse(schema, { daemons: [] }), ctx)).toThrow("at least one");
  expect(() => v.parse(schema, { daemons: ["a=b"] })).toThrow();
});
