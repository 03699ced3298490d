// The compiled binary, as a user runs it: `storeventd replay --kmsg FILE --json` over every
// kernel-log parser fixture, with only that fixture's parser configured, prints the events of the
// fixture's expected.ndjson (written from the kernel format strings, not by running the parsers),
// completed by the core. Identical raw kernel text may fold; every distinct expected event appears.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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

test("replay never annotates recorded events with this host's devices, unless --host-devices", async () => {
  // A block device this machine has (vda on the dev VMs); the recorded line is about that name.
  const blocks = Bun.spawnSync(["ls", "/sys/class/block"]).stdout.toString().split("\n").filter(Boolean);
  const name = blocks.includes("vda") ? "vda" : blocks[0];
  expect(name).toBeDefined(); // a machine without block devices cannot run this test
  const file = join(mkdtempSync(join(tmpdir(), "core-fold-replay-")), "rec.kmsg");
  writeFileSync(file, `3,1,5000000,-;Buffer I/O error on dev ${name}, logical block 5, async page read\n`);
  const run = async (extra: string[]) => {
    const r = await runBin(["replay", "--kmsg", file, "--json", ...extra]);
    expect(r.code).toBe(0);
    return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  };
  const [recorded] = await run([]);
  expect(recorded).toMatchObject({ event_type: "BLK_IO_ERROR", dev_name: name, dev_path: "", dev_wwid: "", owners: [] });
  const [here] = await run(["--host-devices"]);
  expect(here).toMatchObject({ event_type: "BLK_IO_ERROR", dev_name: name, dev_path: `/dev/${name}` });
  const serial = (() => {
    try {
      return readFileSync(`/sys/class/block/${name}/serial`, "utf8").trim();
    } catch {
      return "";
    }
  })();
  if (serial) expect(here.dev_wwid).not.toBe("");
});
