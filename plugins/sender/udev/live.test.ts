// The udev sender on the real kernel: a loop device of our own through its whole life, and a
// forged uevent from a user process. Needs root, /dev/loop-control, losetup, sfdisk, partx and the
// addon. Other engineers create loop devices at the same time: everything filters on our names.
import { INVENTORY_SERVICE } from "../../../src/plugin-kit/devices.ts";
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { nativeAddon } from "../../../src/plugin-kit/readers.ts";
import type { EventDraft } from "../../../src/plugin-api.ts";
import { makeContext } from "../../../test/helpers/context.ts";
import { schema, UdevSender } from "./index.ts";
import { addOwnLoop, loopCtl, LOOP_CTL_REMOVE, sh } from "../../../src/plugin-kit/testing.ts";
import { need, rootAnd, tool } from "../../../test/helpers/need.ts";

// Real devices on a machine shared with other test runs: give each step room.
setDefaultTimeout(30_000);

const MiB = 1 << 20;
const requires = { ...rootAnd("/dev/loop-control"), "the addon's UeventReader": Boolean(nativeAddon()?.UeventReader),
  ...Object.fromEntries(["losetup", "sfdisk", "partx", "python3"].map((t) => [t, tool(t)])) };

describe("udev sender on the real kernel", () => {
  beforeAll(() => need(requires));
  const dir = mkdtempSync(join(tmpdir(), "storeventd-udev-"));
  const img = join(dir, "disk.img");
  const { ctx, rec, abort } = makeContext();
  const sender = new UdevSender(v.parse(schema, {}), ctx);
  let running: Promise<void> | undefined;
  let n = -1; // our loop device number
  let name = "";
  let attached = false;
  let extraLoop = ""; // the one `losetup -f` picked

  const ours = (dev: string) => (e: EventDraft) => e.dev_name === dev;
  async function waitFor(pred: (e: EventDraft) => boolean, what: string, ms = 10_000): Promise<EventDraft> {
    const end = performance.now() + ms;
    for (;;) {
      const hit = rec.events.find(pred);
      if (hit) return hit;
      if (performance.now() > end) throw new Error(`no ${what}; got ${rec.events.map((e) => `${e.event_type} ${e.dev_name}`).join(", ")}`);
      await Bun.sleep(20);
    }
  }

  beforeAll(async () => {
    running = sender.run();
    for (let i = 0; i < 250 && rec.readyCalls === 0; i++) await Bun.sleep(20);
    n = addOwnLoop(); // a node number of our own, far from what `losetup -f` hands out
    name = `loop${n}`;
    sh(["truncate", "-s", `${20 * MiB}`, img]);
  });

  afterAll(async () => {
    if (attached) Bun.spawnSync(["losetup", "-d", `/dev/${name}`]);
    if (extraLoop) Bun.spawnSync(["losetup", "-d", extraLoop]);
    if (n >= 0 && existsSync(`/sys/class/block/${name}`)) loopCtl(LOOP_CTL_REMOVE, n);
    abort.abort();
    await running;
    rmSync(dir, { recursive: true, force: true });
  });

  test("ctx.ready() after the initial scan; the inventory is provided as a service", () => {
    expect(rec.readyCalls).toBe(1);
    expect(ctx.services.get(INVENTORY_SERVICE)).toBe(sender.inventory);
    expect(n).toBeGreaterThan(0);
  });

  test("LOOP_CTL_ADD -> DEVICE_ADDED; attaching 20 MiB -> DEVICE_CHANGED with the size", async () => {
    const added = await waitFor((e) => e.event_type === "DEVICE_ADDED" && e.dev_name === name, `DEVICE_ADDED ${name}`);
    expect(added.extension).toMatchObject({ devtype: "disk", majmin: `7:${n}`, size_bytes: 0 });
    sh(["losetup", `/dev/${name}`, img]);
    attached = true;
    const changed = await waitFor((e) => e.event_type === "DEVICE_CHANGED" && e.dev_name === name, "DEVICE_CHANGED");
    expect(changed.extension).toMatchObject({ old_size_bytes: 0, new_size_bytes: 20 * MiB });
    expect(sender.inventory.get(name)?.size_bytes).toBe(20 * MiB);
  });

  test("truncate +10M; losetup -c -> DEVICE_RESIZED with old and new size", async () => {
    sh(["truncate", "-s", `+${10 * MiB}`, img]);
    sh(["losetup", "-c", `/dev/${name}`]);
    const e = await waitFor((x) => x.event_type === "DEVICE_RESIZED" && x.dev_name === name, "DEVICE_RESIZED");
    expect(e.extension).toMatchObject({ old_size_bytes: 20 * MiB, new_size_bytes: 30 * MiB });
    expect(e.severity).toBe("info");
  });

  test("sfdisk + partx -a -> partitions appear with the disk as parent", async () => {
    const r = Bun.spawnSync(["sfdisk", "-q", "--no-reread", "--no-tell-kernel", `/dev/${name}`], {
      stdin: new TextEncoder().encode("label: dos\n,10M,L\n,,L\n"), stderr: "pipe",
    });
    expect(r.exitCode).toBe(0);
    sh(["partx", "-a", `/dev/${name}`]);
    const p1 = await waitFor((e) => e.event_type === "DEVICE_ADDED" && e.dev_name === `${name}p1`, "p1");
    const p2 = await waitFor((e) => e.event_type === "DEVICE_ADDED" && e.dev_name === `${name}p2`, "p2");
    expect(p1.extension).toMatchObject({ devtype: "partition", parent: name, size_bytes: 10 * MiB });
    expect(p2.extension).toMatchObject({ devtype: "partition", parent: name });
    expect(sender.inventory.get(name)?.partitions).toEqual([`${name}p1`, `${name}p2`]);
    expect(sender.inventory.identify(`/dev/${name}p1`)).toMatchObject({ dev_name: `${name}p1`, dev_path: `/dev/${name}p1` });
  });

  test("losetup -d -> MEDIA_CHANGED (DISK_MEDIA_CHANGE=1), size 0, the node stays", async () => {
    sh(["losetup", "-d", `/dev/${name}`]);
    attached = false;
    const media = await waitFor((e) => e.event_type === "MEDIA_CHANGED" && e.dev_name === name, "MEDIA_CHANGED");
    expect(media.raw).toContain("DISK_MEDIA_CHANGE=1");
    expect(rec.events.some((e) => e.event_type === "DEVICE_REMOVED" && e.dev_name === name)).toBe(false);
    // Partitions added with partx (BLKPG) stay until the node goes: the loop has no partscan flag.
    expect(sender.inventory.get(name)).toMatchObject({ size_bytes: 0, partitions: [`${name}p1`, `${name}p2`] });
  });

  test("LOOP_CTL_REMOVE -> DEVICE_REMOVED for the partitions and the disk", async () => {
    expect(loopCtl(LOOP_CTL_REMOVE, n)).toBe(0);
    await waitFor((x) => x.event_type === "DEVICE_REMOVED" && x.dev_name === `${name}p1`, "p1 removed");
    await waitFor((x) => x.event_type === "DEVICE_REMOVED" && x.dev_name === `${name}p2`, "p2 removed");
    const e = await waitFor((x) => x.event_type === "DEVICE_REMOVED" && x.dev_name === name, "DEVICE_REMOVED");
    expect(e.severity).toBe("info"); // a virtual device
    expect(sender.inventory.get(name)).toBeUndefined();
    expect(sender.inventory.identify(name)).toEqual({ dev_name: name, dev_path: "", dev_wwid: "", owners: [] });
  });

  test("losetup -f --show -> an event for that loop device with the right size", async () => {
    extraLoop = sh(["losetup", "-f", "--show", img]);
    const dev = extraLoop.replace("/dev/", "");
    const e = await waitFor((x) => ours(dev)(x) && (x.event_type === "DEVICE_CHANGED" || x.event_type === "DEVICE_ADDED") &&
      (x.extension?.new_size_bytes === 30 * MiB || x.extension?.size_bytes === 30 * MiB), `event for ${dev}`);
    expect(e.system).toBe("block");
    sh(["losetup", "-d", extraLoop]);
    extraLoop = "";
  });

  test("a forged uevent from a user process on the kernel group is dropped and counted", async () => {
    const before = rec.counts.get("dropped_untrusted") ?? 0;
    const forged = `forged${process.pid}`;
    const msg = `add@/devices/virtual/block/${forged}\\0ACTION=add\\0DEVPATH=/devices/virtual/block/${forged}\\0` +
      `SUBSYSTEM=block\\0DEVNAME=${forged}\\0DEVTYPE=disk\\0SEQNUM=1\\0`;
    sh(["python3", "-c", "import socket\ns=socket.socket(socket.AF_NETLINK,socket.SOCK_RAW,15)\ns.bind((0,0))\n" +
      `s.sendto(b'${msg}',(0,1))`]);
    const end = performance.now() + 3000;
    while ((rec.counts.get("dropped_untrusted") ?? 0) === before && performance.now() < end) await Bun.sleep(20);
    expect(rec.counts.get("dropped_untrusted") ?? 0).toBeGreaterThan(before);
    await Bun.sleep(100);
    expect(rec.events.filter((e) => e.dev_name === forged)).toEqual([]);
    expect(rec.records.filter((r) => r.kind === "uevent" && r.devpath.includes(forged))).toEqual([]);
  });
});

describe("udev sender without the addon (sysfs polling)", () => {
  beforeAll(() => need(requires));
  test("a loop device attached while polling -> DEVICE_CHANGED with resync: true", async () => {
    const { ctx, rec, abort } = makeContext({ native: null });
    const sender = new UdevSender(v.parse(schema, { poll_interval: "100ms" }), ctx);
    const running = sender.run();
    const dir = mkdtempSync(join(tmpdir(), "storeventd-udev-poll-"));
    let loop = "";
    try {
      expect(rec.readyCalls).toBe(1);
      expect(rec.logs.some((l) => l.includes("polling sysfs every 100ms"))).toBe(true);
      sh(["truncate", "-s", `${6 * MiB}`, join(dir, "img")]);
      loop = sh(["losetup", "-f", "--show", join(dir, "img")]);
      const name = loop.slice(5);
      const end = performance.now() + 3000;
      let hit: EventDraft | undefined;
      while (!hit && performance.now() < end) {
        await Bun.sleep(50);
        hit = rec.events.find((e) => e.dev_name === name && e.extension?.new_size_bytes === 6 * MiB);
      }
      expect(hit).toMatchObject({ event_type: "DEVICE_CHANGED", extension: { resync: true, old_size_bytes: 0 } });
      expect(sender.status()).toMatchObject({ mode: "poll" });
      // status says exactly what polling loses.
      expect(String(sender.status().why)).toStartWith("no netlink uevents: ");
      expect((sender.status().lost as string[]).join("\n")).toContain("SCSI_UNIT_ATTENTION (SDEV_UA= change uevents)");
      expect((sender.status().lost as string[]).join("\n")).toContain("NVME_AEN=");
      expect((sender.status().lost as string[]).join("\n")).toContain("DM_ACTION=PATH_FAILED");
      expect(rec.counts.get("resyncs")).toBeGreaterThan(0);
    } finally {
      if (loop) Bun.spawnSync(["losetup", "-d", loop]);
      abort.abort();
      await running;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("udev sender when the socket overflows (real ENOBUFS)", () => {
  beforeAll(() => need(requires));
  test("a slow reader with a small buffer: ENOBUFS counted, sysfs rescanned, uevents flow again", async () => {
    const addon = nativeAddon()!;
    // The same reader, with the smallest buffer and 2 ms per receive: a burst overflows it.
    const SlowReader = function (groups: number) {
      return new addon.UeventReader!(groups, 65536, 2);
    } as unknown as NonNullable<typeof addon.UeventReader>;
    const { ctx, rec, abort } = makeContext({ native: { ...addon, UeventReader: SlowReader } });
    const sender = new UdevSender(v.parse(schema, { groups: ["kernel"] }), ctx);
    const running = sender.run();
    const dir = mkdtempSync(join(tmpdir(), "storeventd-udev-enobufs-"));
    const n = addOwnLoop();
    try {
      expect(n).toBeGreaterThan(0);
      sh(["truncate", "-s", `${4 * MiB}`, join(dir, "img")]);
      sh(["losetup", `/dev/loop${n}`, join(dir, "img")]);
      // 600 synthetic change uevents from the kernel for our device, as fast as python writes.
      sh(["python3", "-c", `for i in range(600): open('/sys/class/block/loop${n}/uevent','w').write('change')`]);
      const end = performance.now() + 8000;
      while (!(rec.counts.get("enobufs") ?? 0) && performance.now() < end) await Bun.sleep(20);
      expect(rec.counts.get("enobufs") ?? 0).toBeGreaterThan(0);
      expect(rec.counts.get("resyncs") ?? 0).toBeGreaterThan(0);
      expect(rec.logs.some((l) => l.includes("rescanning") && l.includes("uevents were lost"))).toBe(true);
      // Still alive after the overflow: detaching and removing the node are seen.
      sh(["losetup", "-d", `/dev/loop${n}`]);
      expect(loopCtl(LOOP_CTL_REMOVE, n)).toBe(0);
      const end2 = performance.now() + 8000;
      while (!rec.events.some((e) => e.event_type === "DEVICE_REMOVED" && e.dev_name === `loop${n}`) && performance.now() < end2) await Bun.sleep(20);
      expect(rec.events.some((e) => e.event_type === "DEVICE_REMOVED" && e.dev_name === `loop${n}`)).toBe(true);
      expect(rec.counts.get("received") ?? 0).toBeLessThan(600); // some were lost, as the kernel said
    } finally {
      Bun.spawnSync(["losetup", "-d", `/dev/loop${n}`]);
      if (n >= 0 && existsSync(`/sys/class/block/loop${n}`)) loopCtl(LOOP_CTL_REMOVE, n);
      abort.abort();
      await running;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("udev sender on the udev group (libudev format through the real socket)", () => {
  beforeAll(() => need(requires));
  /** Sends a libudev-format message (device-monitor.c header) to netlink group 2 as root, with uid in SCM_CREDENTIALS. */
  function sendUdev(props: string[], uid = 0): void {
    const py = [
      "import os,socket,struct,sys",
      "body=b''.join(p.encode()+b'\\0' for p in sys.argv[2:])",
      "hdr=b'libudev\\0'+struct.pack('>I',0xfeedcafe)+struct.pack('<7I',40,40,len(body),0,0,0,0)",
      "s=socket.socket(socket.AF_NETLINK,socket.SOCK_RAW,15); s.bind((0,0))",
      "uid=int(sys.argv[1]); cred=struct.pack('iII',os.getpid(),uid,uid)",
      "s.sendmsg([hdr+body],[(socket.SOL_SOCKET,socket.SCM_CREDENTIALS,cred)],0,(0,2))",
    ].join("\n");
    sh(["python3", "-c", py, String(uid), ...props]);
  }

  test("udevd's copy of a SEQNUM adds by-id links and IDs only; a new one is an event; uid != 0 is dropped", async () => {
    const { ctx, rec, abort } = makeContext();
    const sender = new UdevSender(v.parse(schema, {}), ctx);
    const running = sender.run();
    const n = addOwnLoop();
    const name = `loop${n}`;
    const wait = async (pred: () => boolean) => {
      for (let i = 0; i < 200 && !pred(); i++) await Bun.sleep(20);
      return pred();
    };
    try {
      expect(await wait(() => rec.events.some((e) => e.event_type === "DEVICE_ADDED" && e.dev_name === name))).toBe(true);
      const kernelAdd = rec.records.find((r) => r.kind === "uevent" && r.action === "add" && r.devpath.endsWith(`/${name}`));
      const seq = kernelAdd!.kind === "uevent" ? kernelAdd!.props.SEQNUM! : "";
      const devpath = `/devices/virtual/block/${name}`;
      const base = [`DEVPATH=${devpath}`, "SUBSYSTEM=block", `DEVNAME=/dev/${name}`, "DEVTYPE=disk", "MAJOR=7", `MINOR=${n}`];
      sendUdev(["ACTION=add", ...base, `SEQNUM=${seq}`, `DEVLINKS=/dev/disk/by-id/storeventd-test-${n} /dev/other`, `ID_SERIAL=storeventd-${n}`]);
      expect(await wait(() => (rec.counts.get("duplicates") ?? 0) > 0)).toBe(true);
      expect(rec.events.filter((e) => e.event_type === "DEVICE_ADDED" && e.dev_name === name).length).toBe(1);
      expect(sender.inventory.get(name)).toMatchObject({ by_id: [`storeventd-test-${n}`], serial: `storeventd-${n}` });
      expect(sender.inventory.resolve(`storeventd-test-${n}`)).toBe(name);

      sendUdev(["ACTION=change", ...base, "SEQNUM=4000000000", "DISK_MEDIA_CHANGE=1"]);
      expect(await wait(() => rec.events.some((e) => e.event_type === "MEDIA_CHANGED" && e.dev_name === name))).toBe(true);
      const udevRec = rec.records.find((r) => r.kind === "uevent" && r.props.SEQNUM === "4000000000");
      expect(udevRec).toMatchObject({ origin: "udev", action: "change", devpath });

      const before = rec.counts.get("dropped_untrusted") ?? 0;
      sendUdev(["ACTION=remove", ...base, "SEQNUM=4000000001"], 1000);
      expect(await wait(() => (rec.counts.get("dropped_untrusted") ?? 0) > before)).toBe(true);
      expect(rec.records.some((r) => r.kind === "uevent" && r.props.SEQNUM === "4000000001")).toBe(false);
    } finally {
      if (n >= 0) loopCtl(LOOP_CTL_REMOVE, n);
      abort.abort();
      await running;
    }
  });
});
