// `storeventd replay --uevent` on the compiled binary: recorded uevents give the udev catalog
// events (which the live udev sender emits; no parser owns them).
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { replayUevents } from "./replay.ts";
import { nativeAddon } from "../../../src/plugin-kit/readers.ts";
import { need } from "../../../test/helpers/need.ts";

const ROOT = join(import.meta.dir, "../../..");
const BIN = join(ROOT, "dist/storeventd");
const DATA = join(ROOT, "plugins/sender/udev/testdata");

describe("storeventd replay --uevent (compiled binary)", () => {
  beforeAll(() => need({ [`${BIN} (npm test builds it)`]: existsSync(BIN) }));
  test("a raw capture of sd/scsi_device uevents -> DEVICE_*, SCSI_UNIT_ATTENTION, MEDIA_CHANGED as NDJSON", () => {
    const r = Bun.spawnSync([BIN, "replay", "--uevent", join(DATA, "sd-scsi/input.uevent"), "--json"], { stderr: "pipe" });
    expect(r.exitCode).toBe(0);
    const events = r.stdout.toString().trim().split("\n").map((l) => JSON.parse(l));
    const ua = events.filter((e) => e.event_type === "SCSI_UNIT_ATTENTION");
    expect(ua.length).toBe(7);
    expect(ua[0]).toMatchObject({ source: "udev", system: "scsi", dev_name: "sdb", extension: { ua: "CAPACITY_DATA_HAS_CHANGED" } });
    expect(ua[0].raw).toStartWith("change@/devices/pci0000:00/0000:00:17.0/ata3/host2/target2:0:0/2:0:0:0\nACTION=change\n");
    expect(events.filter((e) => e.event_type === "MEDIA_CHANGED").map((e) => e.dev_name)).toEqual(["sr0", "sr0"]);
    expect(r.stderr.toString()).toContain("replay: 15 records");
  });

  test("udevadm monitor text from stdin: the UDEV copy of a SEQNUM is not repeated", () => {
    const text = Bun.file(join(DATA, "udevadm-text/input.uevent"));
    const r = Bun.spawnSync([BIN, "replay", "--uevent", "-", "--json"], { stdin: text, stderr: "pipe" });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString().trim().split("\n").map((l) => JSON.parse(l).event_type)).toEqual(["DEVICE_ADDED", "MEDIA_CHANGED", "DEVICE_REMOVED"]);
  });
});

test("replayUevents() skips other subsystems and second copies, reports bad values", async () => {
  const bad: string[] = [];
  const data = await Bun.file(join(DATA, "near-miss/input.uevent")).bytes();
  const out = [...replayUevents(data, nativeAddon(), { onBad: (r) => bad.push(r) })];
  expect(out.map((o) => o.rec.props.SEQNUM)).toEqual(["101", "103", "104", "105"]);
  expect(out.flatMap((o) => o.drafts)).toEqual([]);
  expect(bad).toEqual(["NVME_AEN value is not hex"]);
});
