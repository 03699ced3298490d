// End to end on the compiled binary: `storeventd run` with the kmsg sender, the block and scsi
// parsers and a file receiver; the kernel fails reads on a loop device this test owns (errno-fs),
// and the typed events for that device arrive in the receiver's file, once each.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon } from "../../../test/helpers/bin.ts";
import { errnoLoop, freshRatelimitWindow } from "./errno-loop.ts";

const dir = mkdtempSync("/tmp/storeventd-blk-daemon-");
const cleanup: (() => void)[] = [() => rmSync(dir, { recursive: true, force: true })];
afterAll(() => {
  for (const f of cleanup.reverse()) f();
});

const events = (): Array<Record<string, any>> =>
  existsSync(join(dir, "events.ndjson"))
    ? readFileSync(join(dir, "events.ndjson"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
    : [];

test("dist/storeventd run: the kernel's block errors on a loop device arrive as BLK events in the file receiver", async () => {
  writeFileSync(join(dir, "storeventd.toml"), `[main]
hostname = "node-a"
state_dir = "${dir}/state"
control_socket = "${dir}/control.sock"

[kmsg]
type = "sender"
from = "end"

[block]
type = "parser"

[scsi]
type = "parser"

[events]
type = "receiver"
plugin = "file"
path = "${dir}/events.ndjson"
fsync = "always"
`);
  const loop = await errnoLoop();
  cleanup.push(() => loop.cleanup());
  const daemon = await startDaemon(["run", "-c", join(dir, "storeventd.toml")], (e) => /kmsg: reading \/dev\/kmsg from/.test(e));
  cleanup.push(() => daemon.proc.kill("SIGKILL"));

  await freshRatelimitWindow();
  loop.readBlock(0); // ENODATA -> critical medium
  loop.readBlock(1); // ETIMEDOUT -> timeout
  loop.writeBlock(8); // ENOSPC -> critical space allocation
  const mine = () => events().filter((e) => e.dev_name === loop.dev);
  const until = performance.now() + 10_000;
  while (mine().length < 3 && performance.now() < until) await Bun.sleep(50);
  daemon.proc.kill("SIGTERM");
  expect(await daemon.proc.exited).toBe(0);

  expect(mine().map((e) => [e.event_type, e.extension.status, e.extension.op_name, e.extension.sector])).toEqual([
    ["BLK_CRITICAL_MEDIUM_ERROR", "critical medium", "READ", 0],
    ["BLK_IO_ERROR", "timeout", "READ", 8],
    ["BLK_IO_ERROR", "critical space allocation", "WRITE", 64],
  ]);
  for (const e of mine()) {
    expect(e).toMatchObject({ hostname: "node-a", system: "block", severity: "error", source: "kmsg", dev_path: loop.path });
    expect(e.raw.slice(e.raw.indexOf(";") + 1)).toStartWith(`${e.extension.status} error, dev ${loop.dev}, sector `);
    expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(Math.abs(Date.parse(e.time) - Date.now())).toBeLessThan(60_000);
  }
}, 30_000);
