// The compiled binary, as a user runs it: `storeventd replay --kmsg FILE --json` over every
// kernel-log parser fixture prints the events the five parsers draft for it, completed by the core.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import plugins from "../plugins/all.ts";
import { Registry } from "../src/registry.ts";
import { formatTime } from "../src/event.ts";
import { runBin } from "./helpers/bin.ts";
import { FIXTURE_BOOT_US, fixtureCases, makeParser, readKmsgFixture, runRecords } from "./helpers/parser-fixtures.ts";

const PARSERS = ["scsi", "block", "nvme", "ata", "iscsi"];
// Only these five run (a config naming parsers runs only those): the fs parser would rightly
// claim the XFS line in block's near-miss case.
const config = join(mkdtempSync(join(tmpdir(), "parsers-replay-")), "parsers.toml");
writeFileSync(config, PARSERS.map((p) => `[${p}]\ntype = "parser"\n`).join(""));
const registry = new Registry(plugins);
const cases = PARSERS.flatMap((p) => {
  const dir = join(import.meta.dir, "../plugins/parser", p, "testdata");
  return fixtureCases(dir).map((c) => join(dir, c, "input.kmsg"));
});

test.each(cases.map((f) => [f.split("/plugins/parser/")[1]!, f]))("replay --kmsg %s prints the parsers' events", async (_name, file) => {
  const want = [];
  for (const name of PARSERS) {
    const { parser } = await makeParser(registry.get("parser", name)!);
    want.push(...runRecords(parser, readKmsgFixture(readFileSync(file, "utf8"))));
  }
  const boot = new Date(FIXTURE_BOOT_US / 1000).toISOString();
  const { code, stdout, stderr } = await runBin(["replay", "-c", config, "--kmsg", file, "--json", "--boot-time", boot]);
  expect(code).toBe(0);
  const got = stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const folded = Number(/, (\d+) folded/.exec(stderr)?.[1] ?? 0);
  expect(got.length + folded).toBe(want.length);
  const key = (e: { event_type: string; dev_name?: string; msg: string; raw?: string; severity: string; extension?: unknown }) =>
    JSON.stringify([e.event_type, e.dev_name ?? "", e.severity, e.msg, e.raw, e.extension ?? {}]);
  const wantKeys = new Set(want.map(key));
  for (const e of got) {
    const { repeat: _r, ...extension } = e.extension;
    expect(wantKeys.has(key({ ...e, extension }))).toBe(true);
    expect(e.source).toBe("kmsg");
  }
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
