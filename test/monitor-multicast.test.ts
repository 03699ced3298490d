// `storeventd monitor --multicast`: one host watches the events another host's multicast receiver
// sends, with no control socket; both binaries run inside a network namespace of the test's own.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { BIN } from "./helpers/bin.ts";

const ns = `sv-mon-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), "storeventd-monmc-"));
const port = 20000 + Math.floor(Math.random() * 20000);
const group = `239.0.0.91:${port}`;
const ip = (...a: string[]) => {
  const r = Bun.spawnSync(["ip", ...a], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ip ${a.join(" ")}: ${r.stderr}`);
};

beforeAll(() => {
  ip("netns", "add", ns);
  ip("-n", ns, "link", "set", "lo", "up");
  ip("-n", ns, "link", "set", "lo", "multicast", "on");
  ip("-n", ns, "route", "add", "239.0.0.0/8", "dev", "lo");
});
afterAll(() => {
  Bun.spawnSync(["ip", "netns", "del", ns]);
  rmSync(dir, { recursive: true, force: true });
});

test("monitor --multicast prints what a storage host's multicast receiver sends, filtered", async () => {
  const monitor = (args: string[]) =>
    Bun.spawn(["ip", "netns", "exec", ns, BIN, "monitor", "--multicast", group, "--json", ...args], { stdout: "pipe", stderr: "pipe" });
  const all = monitor(["-n", "2"]);
  const onlyStop = monitor(["--type", "DAEMON_STOPPING", "-n", "1"]);
  await Bun.sleep(500); // both have joined the group
  const cfg = join(dir, "sender.toml");
  writeFileSync(cfg, `[main]\nhostname = "storage-7"\nstate_dir = "${dir}/state"\ncontrol_socket = "${dir}/c.sock"\n[alerts]\ntype = "receiver"\nplugin = "multicast"\ngroup = "${group}"\n`);
  const daemon = Bun.spawn(["ip", "netns", "exec", ns, BIN, "run", "-c", cfg], { stdout: "ignore", stderr: "pipe" });
  await Bun.sleep(700);
  daemon.kill("SIGTERM");
  expect(await daemon.exited).toBe(0);
  const timer = setTimeout(() => (all.kill(), onlyStop.kill()), 10_000);
  const [a, b] = await Promise.all([new Response(all.stdout).text(), new Response(onlyStop.stdout).text()]);
  clearTimeout(timer);
  expect(await all.exited).toBe(0);
  expect(await onlyStop.exited).toBe(0);
  const got = a.trim().split("\n").map((l) => JSON.parse(l));
  expect(got.map((e) => [e.hostname, e.event_type])).toEqual([["storage-7", "DAEMON_STARTED"], ["storage-7", "DAEMON_STOPPING"]]);
  expect(b.trim().split("\n").map((l) => JSON.parse(l).event_type)).toEqual(["DAEMON_STOPPING"]);
}, 30_000);

test("monitor --multicast rejects a bad group and options that need the socket (exit 2)", async () => {
  const bad = Bun.spawnSync([BIN, "monitor", "--multicast", "10.0.0.1"], { stderr: "pipe" });
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr.toString()).toContain("--multicast:");
  const mixed = Bun.spawnSync([BIN, "monitor", "--multicast", group, "--since", "1h"], { stderr: "pipe" });
  expect(mixed.exitCode).toBe(2);
  expect(mixed.stderr.toString()).toContain("--since and --follow-restarts need the control socket");
});
