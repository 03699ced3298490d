// The compiled daemon end to end: the drbd sender runs the fake drbdsetup, the model turns its
// stream into events (file receiver), [[umh]] runs a rule's command, [[prometheus]] serves the
// model; then drbdsetup is killed and the resync reports DRBD_EVENTS_RESTARTED only.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDaemon } from "../helpers/bin.ts";

const dir = mkdtempSync(join(tmpdir(), "storeventd-drbd-daemon-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

test("storeventd run: drbd sender -> model -> events, umh and prometheus; restart resync", async () => {
  const fake = join(dir, "fake");
  const umhOut = join(dir, "umh");
  Bun.spawnSync(["mkdir", "-p", fake, umhOut]);
  writeFileSync(join(fake, "stream.1"), readFileSync(join(import.meta.dir, "streams/lifecycle.events2")));
  // A restarted drbdsetup dumps the state the first one ended in.
  writeFileSync(join(fake, "stream"), readFileSync(join(import.meta.dir, "streams/lifecycle-final.events2")));
  const free = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = free.port;
  free.stop(true);
  const events = join(dir, "events.ndjson");
  const cfg = join(dir, "storeventd.toml");
  writeFileSync(cfg, `
[main]
hostname = "node-a"
state_dir = "${dir}/state"
control_socket = "${dir}/ctl.sock"
[drbd]
type = "sender"
path = "${join(import.meta.dir, "bin/drbdsetup")}"
restart-min = "50ms"
[eventlog]
type = "receiver"
plugin = "file"
path = "${events}"
fsync = "never"
[[prometheus]]
address = "127.0.0.1:${port}"
[[umh]]
[[umh.resource]]
name = "promoted"
command = "${join(import.meta.dir, "../../plugins/receiver/umh/testdata/record-env.sh")} promoted"
old.role = "Secondary"
new.role = "Primary"
env = { OUT = "${umhOut}" }
`);
  const d = await startDaemon(["run", "-c", cfg], (s) => s.includes("started"), { FAKE_DRBDSETUP_DIR: fake });
  try {
    // Only whole lines: the daemon may be in the middle of writing the last one.
    const read = () => (existsSync(events) ? readFileSync(events, "utf8").split("\n").slice(0, -1).filter(Boolean).map((l) => JSON.parse(l)) : []);
    await until("39 DRBD events", () => read().filter((e) => e.system === "drbd").length >= 39);
    const drbd = read().filter((e) => e.system === "drbd");
    expect(drbd[0]).toMatchObject({ event_type: "DRBD_ROLE_CHANGED", hostname: "node-a", source: "drbd", extension: { resource: "r0", new_role: "Primary" } });
    expect(drbd.map((e) => e.event_type)).toContain("DRBD_SPLIT_BRAIN");

    // The recorder writes its file in two steps: wait for the environment's last line (sorted: TERM).
    const runFile = () => readdirSync(umhOut).map((f) => readFileSync(join(umhOut, f), "utf8"));
    await until("umh run", () => runFile().length === 1 && runFile()[0]!.includes("TERM=Linux\n"));
    expect(runFile().length).toBe(1);
    const env = runFile()[0]!;
    expect(env).toContain("argv: promoted\n");
    expect(env).toContain("DRBD_RES_NAME=r0\n");
    expect(env).toContain("DRBD_NEW_ROLE=Primary\n");

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain("drbd_resource_resources 3\n");
    expect(metrics).toContain('drbd_device_client{name="new0",volume="0",minor="1030"} 1\n');
    expect(metrics).toContain('storeventd_drbd_events_total{event_type="DRBD_SPLIT_BRAIN"} 1\n');

    // drbdsetup dies; the same state comes back: only DRBD_EVENTS_RESTARTED, no replayed changes.
    const before = drbd.length;
    process.kill(Number(readFileSync(join(fake, "pid"), "utf8")), "SIGKILL");
    await until("restart event", () => read().some((e) => e.event_type === "DRBD_EVENTS_RESTARTED"));
    await Bun.sleep(200);
    const after = read().filter((e) => e.system === "drbd").slice(before);
    expect(after.map((e) => e.event_type)).toEqual(["DRBD_EVENTS_RESTARTED"]);
    expect(after[0].extension).toMatchObject({ resources: 3 });
    expect(readdirSync(umhOut)).toHaveLength(1);
  } finally {
    d.proc.kill("SIGTERM");
    expect(await d.proc.exited).toBe(0);
  }
  // The sender owned drbdsetup: it is gone with the daemon.
  const pid = Number(readFileSync(join(fake, "pid"), "utf8"));
  expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z")).toBe(false);
}, 60_000);
