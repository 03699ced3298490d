import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { notifySocket, notifyViaHelper, sdNotify, startWatchdog, watchdogIntervalMs } from "./notify.ts";
import { nativeAddon } from "../native.ts";
import { listenNotify as listen } from "./testdata/notify-listener.ts";

const saved = { ...process.env };
let dir = "";
afterEach(() => {
  for (const k of ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = "";
});

describe("notifySocket()", () => {
  test("accepts absolute and abstract paths, rejects the rest", () => {
    expect(notifySocket({ NOTIFY_SOCKET: "/run/systemd/notify" })).toBe("/run/systemd/notify");
    expect(notifySocket({ NOTIFY_SOCKET: "@/org/freedesktop/systemd1/notify/1" })).toBe("@/org/freedesktop/systemd1/notify/1");
    expect(notifySocket({})).toBeNull();
    expect(notifySocket({ NOTIFY_SOCKET: "" })).toBeNull();
    expect(notifySocket({ NOTIFY_SOCKET: "@" })).toBeNull();
    expect(notifySocket({ NOTIFY_SOCKET: "relative/sock" })).toBeNull();
    expect(notifySocket({ NOTIFY_SOCKET: "vsock:2:1234" })).toBeNull();
  });
});

describe("sdNotify()", () => {
  test("returns false and sends nothing without NOTIFY_SOCKET", () => {
    delete process.env.NOTIFY_SOCKET;
    expect(sdNotify("READY=1")).toBe(false);
  });

  test("delivers READY=1 to a unix datagram socket from this process", async () => {
    expect(nativeAddon()).not.toBeNull();
    dir = mkdtempSync(join(tmpdir(), "sdnotify-"));
    const path = join(dir, "notify.sock");
    const l = await listen(path, 2);
    process.env.NOTIFY_SOCKET = path;
    expect(sdNotify("READY=1")).toBe(true);
    expect(sdNotify("STATUS=3 senders, 0 events\nMAINPID=" + process.pid)).toBe(true);
    const got = await l.received();
    expect(got).toEqual([
      { pid: process.pid, data: "READY=1" },
      { pid: process.pid, data: `STATUS=3 senders, 0 events\nMAINPID=${process.pid}` },
    ]);
  });

  test("delivers to an abstract socket ('@' prefix)", async () => {
    const path = `@storeventd-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const l = await listen(path, 1);
    process.env.NOTIFY_SOCKET = path;
    expect(sdNotify("STOPPING=1")).toBe(true);
    expect(await l.received()).toEqual([{ pid: process.pid, data: "STOPPING=1" }]);
  });

  test("returns false when nobody listens on the socket", () => {
    dir = mkdtempSync(join(tmpdir(), "sdnotify-"));
    process.env.NOTIFY_SOCKET = join(dir, "absent.sock");
    expect(sdNotify("READY=1")).toBe(false);
  });
});

describe("notifyViaHelper()", () => {
  test("systemd-notify sends every assignment on behalf of this process", async () => {
    dir = mkdtempSync(join(tmpdir(), "sdnotify-"));
    const path = join(dir, "notify.sock");
    // Two datagrams: the assignments, then BARRIER=1 with a pipe fd (systemd-notify waits until
    // the manager closed that fd; the listener's recvmsg drops it, which completes the barrier).
    const l = await listen(path, 2);
    expect(notifyViaHelper(path, "READY=1\nSTATUS=fallback")).toBe(true);
    const got = await l.received();
    expect(got.map((d) => d.data)).toContain("BARRIER=1");
    // systemd-notify reports its parent (us) as the sender, so NotifyAccess=main accepts it.
    expect(got[0]!.pid).toBe(process.pid);
    expect(got[0]!.data.split("\n").filter(Boolean)).toEqual(["READY=1", "STATUS=fallback"]);
  });

  test("returns false when the helper is missing", () => {
    expect(notifyViaHelper("/run/nothing.sock", "READY=1", "/nonexistent/systemd-notify")).toBe(false);
  });
});

describe("watchdogIntervalMs()", () => {
  test("is half of WATCHDOG_USEC when WATCHDOG_PID is this process or unset", () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "42" }, 42)).toBe(15000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "3000000" }, 42)).toBe(1500);
  });
  test("is null for another PID, a missing, malformed or tiny timeout", () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "43" }, 42)).toBeNull();
    expect(watchdogIntervalMs({}, 42)).toBeNull();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "-5" }, 42)).toBeNull();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "5s" }, 42)).toBeNull();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "1" }, 42)).toBeNull();
  });
});

describe("startWatchdog()", () => {
  test("pings WATCHDOG=1 at half the interval until stopped", async () => {
    dir = mkdtempSync(join(tmpdir(), "sdnotify-"));
    const path = join(dir, "notify.sock");
    const l = await listen(path, 100, 0.5);
    process.env.NOTIFY_SOCKET = path;
    process.env.WATCHDOG_USEC = "200000"; // 200 ms -> a ping every 100 ms
    process.env.WATCHDOG_PID = String(process.pid);
    const stop = startWatchdog();
    await Bun.sleep(350);
    stop();
    const afterStop = Date.now();
    const got = await l.received(); // the listener quits 0.5 s after the last ping
    expect(Date.now() - afterStop).toBeGreaterThanOrEqual(400);
    expect(got.every((d) => d.data === "WATCHDOG=1" && d.pid === process.pid)).toBe(true);
    // one immediately, then at 100, 200, 300 ms; none after stop()
    expect(got.length).toBeGreaterThanOrEqual(3);
    expect(got.length).toBeLessThanOrEqual(5);
  });

  test("does nothing without a watchdog, or when it is meant for another PID", () => {
    const sent: string[] = [];
    process.env.NOTIFY_SOCKET = "/run/x.sock";
    delete process.env.WATCHDOG_USEC;
    startWatchdog((s) => (sent.push(s), true))();
    process.env.WATCHDOG_USEC = "1000000";
    process.env.WATCHDOG_PID = String(process.pid + 1);
    startWatchdog((s) => (sent.push(s), true))();
    expect(sent).toEqual([]);
  });
});
