// The compiled binary as a daemon (`storeventd run`) with the udev sender and a file receiver,
// on the real kernel: a loop device of our own from creation to removal.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addOwnLoop, loopCtl, LOOP_CTL_REMOVE, sh } from "../../../src/plugin-kit/testing.ts";
import { need, rootAnd, tool } from "../../../test/helpers/need.ts";

// Real devices on a machine shared with other test runs: give each step room.
setDefaultTimeout(30_000);

const BIN = join(import.meta.dir, "../../../dist/storeventd");
const requires = { ...rootAnd(BIN, "/dev/loop-control"), losetup: tool("losetup"), python3: tool("python3") };

describe("storeventd run with the udev sender (compiled binary, real kernel)", () => {
  beforeAll(() => need(requires));
  const dir = mkdtempSync(join(tmpdir(), "storeventd-udev-e2e-"));
  const out = join(dir, "events.ndjson");
  let daemon: { kill(signal?: NodeJS.Signals): void } | undefined;
  let n = -1;
  afterAll(async () => {
    Bun.spawnSync(["losetup", "-d", `/dev/loop${n}`]);
    if (n >= 0 && existsSync(`/sys/class/block/loop${n}`)) loopCtl(LOOP_CTL_REMOVE, n);
    daemon?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  test("loop add, attach, resize, detach, remove -> the catalog events in the file, in order", async () => {
    writeFileSync(join(dir, "c.toml"), `[main]\nstate_dir = "${dir}/state"\ncontrol_socket = "${dir}/ctl.sock"\n` +
      `dedup_window = "0s"\nhostname = "e2e-host"\n[udev]\ntype = "sender"\n` +
      `[out]\ntype = "receiver"\nplugin = "file"\npath = "${out}"\nfsync = "always"\n`);
    const proc = Bun.spawn([BIN, "run", "-c", join(dir, "c.toml")], { stderr: "pipe", stdout: "ignore" });
    daemon = proc;
    const reader = proc.stderr.getReader();
    let log = "";
    while (!log.includes("started")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`daemon exited: ${log}`);
      log += new TextDecoder().decode(value);
    }
    await Bun.sleep(300); // the sender's initial scan
    const mine = () => (existsSync(out) ? readFileSync(out, "utf8") : "").split("\n").filter(Boolean).map((l) => JSON.parse(l))
      .filter((e) => e.dev_name === `loop${n}`);
    const until = async (type: string) => {
      for (let i = 0; i < 400 && !mine().some((e) => e.event_type === type); i++) await Bun.sleep(25);
    };
    n = addOwnLoop();
    expect(n).toBeGreaterThan(0);
    const img = join(dir, "img");
    sh(["truncate", "-s", "8M", img]);
    sh(["losetup", `/dev/loop${n}`, img]);
    // The size is read when the uevent is handled: resize only once the attach was seen at 8 MiB.
    await until("DEVICE_CHANGED");
    sh(["truncate", "-s", "12M", img]);
    sh(["losetup", "-c", `/dev/loop${n}`]);
    // The sender reads the size from sysfs when the uevent arrives: let it see 12 MiB before detaching.
    await until("DEVICE_RESIZED");
    sh(["losetup", "-d", `/dev/loop${n}`]);
    expect(loopCtl(LOOP_CTL_REMOVE, n)).toBe(0);
    await until("DEVICE_REMOVED");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const events = mine();
    expect(events.map((e) => e.event_type)).toEqual([
      "DEVICE_ADDED", "DEVICE_CHANGED", "DEVICE_RESIZED", "DEVICE_CHANGED", "MEDIA_CHANGED", "DEVICE_REMOVED",
    ]);
    expect(events[2]).toMatchObject({
      source: "udev", system: "block", hostname: "e2e-host", dev_path: `/dev/loop${n}`,
      extension: { old_size_bytes: 8 << 20, new_size_bytes: 12 << 20 },
    });
    expect(events[1].extension).toMatchObject({ old_size_bytes: 0, new_size_bytes: 8 << 20 });
    expect(events[2].raw).toContain("RESIZE=1");
  });
});
