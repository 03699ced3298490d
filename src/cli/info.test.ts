// `storeventd info DEV` (infoCommand), offline from sysfs: a real loop device with a mounted
// partition, and the sysfs-shaped multipath/md tree for stacks this machine cannot build.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeSys, loopNeeds, PartitionedLoop } from "../devices/test-devices.ts";
import { need } from "../../test/helpers/need.ts";
import { infoCommand, type InfoReport } from "./info.ts";

async function info(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await infoCommand(argv, { out: (s) => void out.push(s), err: (s) => void err.push(s) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("storeventd info on the sysfs-shaped tree", () => {
  const root = mkdtempSync(join(tmpdir(), "storeventd-info-"));
  fakeSys(root);
  const roots = ["--sys-root", join(root, "sys"), "--dev-root", join(root, "dev")];
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("a multipath path: what sits on it is the map", async () => {
    const r = await info(["sdc", "--json", ...roots]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out) as InfoReport;
    expect(rep).toMatchObject({ name: "sdc", majmin: "8:32", size_bytes: 2048 * 512, sits_on: [], recent_events: [] });
    expect(rep.stacked_on_it).toEqual([{ dev_name: "dm-3", dev_wwid: "mpath-3600140512345678901234567890abcd1" }]);
  });

  test("the map by WWID and by SCSI address of a path; md0 sits on sdd1 and its disk", async () => {
    const byWwid = JSON.parse((await info(["mpath-3600140512345678901234567890abcd1", "--json", ...roots])).out) as InfoReport;
    expect(byWwid).toMatchObject({ name: "dm-3", sits_on: ["sdb", "sdc"], ids: { dm_name: "mpatha" } });
    expect(JSON.parse((await info(["2:0:0:1", "--json", ...roots])).out).name).toBe("sdb");
    expect(JSON.parse((await info(["9:0", "--json", ...roots])).out)).toMatchObject({ name: "md0", sits_on: ["sdd1", "sdd"] });
  });

  test("text output names ids, stack and why recent events are unknown without a daemon", async () => {
    const r = await info(["sdd1", ...roots, "--socket", "/nonexistent/control.sock"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("sdd1 (partition, 8:49)");
    expect(r.out).toContain("wwid:          0x5000c500a1b2c3d4-part1");
    expect(r.out).toContain("sits on:       sdd");
    expect(r.out).toContain("stacked on it: md0 (3a9f1c2e:8d41b7a0:5e6f7081:92a3b4c5)");
    expect(r.out).toContain("recent events: none (daemon not reachable at /nonexistent/control.sock");
  });

  test("unknown device exits 1; usage errors exit 2; --help exits 0", async () => {
    expect(await info(["sdz", ...roots])).toMatchObject({ code: 1, err: 'storeventd info: no block device matches "sdz"' });
    expect((await info([])).code).toBe(2);
    expect((await info(["a", "b"])).code).toBe(2);
    expect((await info(["--bogus", "sda"])).code).toBe(2);
    const h = await info(["--help"]);
    expect(h.code).toBe(0);
    expect(h.out).toStartWith("Usage: storeventd info DEV");
  });
});

describe("storeventd info on a real loop device", () => {
  const dir = mkdtempSync(join(tmpdir(), "storeventd-info-loop-"));
  const mnt = join(dir, "mnt");
  const fixture = new PartitionedLoop(dir, mnt);
  let loop = "";
  beforeAll(() => {
    need(loopNeeds);
    loop = fixture.setup(24, "label: dos\n,,L\n").loop;
  });
  afterAll(() => {
    fixture.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test("info /dev/loopNp1 --json: size, parent disk, mount point", async () => {
    const r = await info([`${loop}p1`, "--json"]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out) as InfoReport;
    expect(rep).toMatchObject({ name: `${loop.slice(5)}p1`, devtype: "partition", sits_on: [loop.slice(5)], mounts: [{ mount_point: mnt, fs_type: "ext4" }] });
    expect(rep.size_bytes).toBeGreaterThan(20 << 20);
  });

  test("info loopN: partitions listed, nothing mounted on the disk itself", async () => {
    const r = await info([loop.slice(5)]);
    expect(r.out).toContain(`partitions:    ${loop.slice(5)}p1`);
    expect(r.out).toContain("mounted on:    -");
  });
});
