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

test("a journalctl child that dies is restarted after the last entry: nothing lost, nothing twice", async () => {
  const { ctx, rec, abort } = makeContext({ stateDir: join(dir, "restart"), instance: "journal" });
  const s = (await plugin.create(v.parse(schema, { namespace: jd.ns, reader: "journalctl", from: "end" }), ctx)) as Sender;
  await s.start!();
  const done = s.run();
  const say = (msg: string) => Bun.spawnSync(["logger", "-u", `/run/systemd/journal.${jd.ns}/dev-log`, "-t", "smartd", "-p", "daemon.crit", "--", msg]);
  await Bun.sleep(500); // journalctl is following ("end": from its start on)
  say("Device: /dev/sdr, 1 Currently unreadable (pending) sectors");
  await waitFor(() => rec.records.length === 1 || undefined, 5000, "the first entry");
  for (const l of childrenOfUs()) process.kill(Number(l.split(" ")[0]), "SIGKILL");
  say("Device: /dev/sdr, 2 Currently unreadable (pending) sectors (changed +1)");
  await waitFor(() => rec.records.length >= 2 || undefined, 10_000, "the entry written while journalctl was dead");
  await Bun.sleep(500);
  expect((rec.records as JournalRecord[]).map((r) => r.msg)).toEqual([
    "Device: /dev/sdr, 1 Currently unreadable (pending) sectors", "Device: /dev/sdr, 2 Currently unreadable (pending) sectors (changed +1)",
  ]);
  expect(s.status!()).toMatchObject({ reader_restarts: 1 });
  abort.abort();
  await done;
  await waitFor(() => childrenOfUs().length === 0 || undefined, 3000, "journalctl to exit");
}, 20_000);

test("config errors: namespace and directory together, no daemons", async () => {
  const { ctx } = makeContext();
  expect(() => plugin.create(v.parse(schema, { namespace: "a", directory: "/b" }), ctx)).toThrow("namespace or directory");
  expect(() => plugin.create(v.parse(schema, { daemons: [] }), ctx)).toThrow("at least one");
  expect(() => v.parse(schema, { daemons: ["a=b"] })).toThrow();
});
