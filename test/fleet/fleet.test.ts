// The fleet end to end, all traffic inside namespaces this test creates: a 3-node nats-server
// cluster with JetStream (stream R3), three hosts (the compiled daemon, each with its own [main]
// hostname, fed by the fake drbdsetup) publishing with the nats receiver, and one fleet node (nats
// sender + store). Events from all hosts are stored once; one NATS server is killed mid-stream and
// the fleet node is killed and restarted: nothing lost, nothing twice. A stopped host is reported
// HOST_SILENT within 3 heartbeats; two hosts Primary for one resource give DRBD_MULTIPLE_PRIMARY.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, runBin } from "../helpers/bin.ts";
import { Netns, spawnIn } from "./netns.ts";
import type { StorageEvent } from "../../src/event.ts";

const natsServer = Bun.which("nats-server") ?? Bun.which("nats-server", { PATH: "/usr/sbin:/usr/bin" });
const root = join(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "fleet19-e2e-"));
const net = new Netns();
type Proc = ReturnType<typeof spawnIn>;
const procs = new Set<Proc>();
const NATS = [11, 12, 13].map((o) => `nats://10.19.0.${o}:4222`);
const HB_S = 1;
/** stderr of every process started, for the message of a timeout. */
const logs = new Map<string, () => string>();
const tails = () => [...logs].map(([k, f]) => `--- ${k}:\n${f().split("\n").slice(-15).join("\n")}`).join("\n");

afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all([...procs].map((p) => p.exited));
  net.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, f: () => T | Promise<T>, ms = 30_000): Promise<NonNullable<T>> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}\n${tails()}`);
    await Bun.sleep(50);
  }
}

/** Starts argv in ns, keeping its stderr; resolves once stderr contains `ready`. */
async function start(ns: string, argv: string[], ready: string, env: Record<string, string> = {}) {
  const p = spawnIn(ns, argv, env);
  procs.add(p);
  let err = "";
  void (async () => {
    for await (const c of p.stderr) err += new TextDecoder().decode(c);
  })();
  void new Response(p.stdout).text();
  logs.set(`${ns} ${argv[0]!.split("/").pop()} (${p.pid})`, () => err);
  await until(`${argv[0]} in ${ns} (${ready})`, () => {
    if (p.exitCode !== null) throw new Error(`${argv.join(" ")} exited ${p.exitCode}:\n${err}`);
    return err.includes(ready);
  }, 20_000);
  return p;
}

async function kill(p: Proc, sig: "SIGKILL" | "SIGTERM"): Promise<void> {
  p.kill(sig);
  await p.exited;
  procs.delete(p);
}

function natsConf(i: number): string {
  const f = join(dir, `nats-${i}.conf`);
  writeFileSync(f, `server_name: n${i}
listen: 10.19.0.1${i}:4222
jetstream { store_dir: "${dir}/js-${i}", max_memory_store: 64MB, max_file_store: 1GB }
cluster { name: fleet19, listen: 10.19.0.1${i}:6222, routes: [${[1, 2, 3].map((j) => `nats://10.19.0.1${j}:6222`).join(", ")}] }
`);
  return f;
}

const natsKeys = `servers = [${NATS.map((s) => `"${s}"`).join(", ")}]
reconnect_min = "50ms"
reconnect_max = "500ms"`;

function hostConf(h: number): string {
  const d = join(dir, `h${h}`);
  mkdirSync(join(d, "fake"), { recursive: true });
  Bun.spawnSync(["mkfifo", join(d, "fake/stream")]);
  writeFileSync(join(d, "storeventd.toml"), `[main]
hostname = "stor-${h}"
state_dir = "${d}/state"
control_socket = "${d}/ctl.sock"
[drbd]
type = "sender"
path = "${root}/test/drbd/bin/drbdsetup"
[own]
type = "receiver"
plugin = "file"
path = "${d}/events.ndjson"
fsync = "never"
[bus]
type = "receiver"
plugin = "nats"
jetstream = true
create_stream = false
publish_timeout = "2s"
buffer_max = 100000
heartbeat = "${HB_S}s"
${natsKeys}
`);
  return d;
}

function fleetConf(): string {
  const d = join(dir, "fleet");
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, "storeventd.toml"), `[main]
hostname = "fleet"
state_dir = "${d}/state"
control_socket = "${d}/ctl.sock"
listen = "127.0.0.1:8919"
[fleet]
type = "sender"
plugin = "nats"
replicas = 3
ack_wait = "5s"
heartbeat = "${HB_S}s"
no_primary_after = "30s"
${natsKeys}
[store]
type = "receiver"
flush_interval = "100ms"
`);
  return d;
}

async function fleetEvents(d: string): Promise<StorageEvent[]> {
  const r = await fetch("http://localhost/v1/events?limit=100000", { unix: join(d, "ctl.sock") } as RequestInit);
  return (await r.json()) as StorageEvent[];
}

function hostEvents(d: string): StorageEvent[] {
  const f = join(d, "events.ndjson");
  return existsSync(f) ? readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
}

// Every host Secondary for every resource at first (the recorded dump has res5 Primary).
const DUMP = readFileSync(join(root, "test/drbd/streams/dump.events2"), "utf8").replace(/^(exists resource .*)role:Primary/gm, "$1role:Secondary");
const DEV = DUMP.split("\n").find((l) => l.startsWith("exists device name:res1 volume:0"))!.replace(/^exists/, "change");
const ROLE = (role: string) => DUMP.split("\n").find((l) => l.startsWith("exists resource name:res0"))!.replace(/^exists/, "change").replace("role:Secondary", `role:${role}`);

test("fleet: 3 hosts, NATS cluster R3, a fleet node; kills lose nothing, duplicate nothing; HOST_SILENT; DRBD_MULTIPLE_PRIMARY", async () => {
  expect(natsServer).toBeTruthy();
  expect(existsSync(BIN)).toBe(true);
  for (const [n, o] of [["n1", 11], ["n2", 12], ["n3", 13], ["h1", 21], ["h2", 22], ["h3", 23], ["f", 30]] as const) net.add(n, o);
  const nats = await Promise.all([1, 2, 3].map((i) => start(`fleet19-n${i}`, [natsServer!, "-c", natsConf(i)], "Server is ready")));
  const fd = fleetConf();
  let fleet = await start("fleet19-f", [BIN, "run", "-c", join(fd, "storeventd.toml")], "started");
  const hd = [1, 2, 3].map(hostConf);
  const hosts = await Promise.all(hd.map((d, i) => start(`fleet19-h${i + 1}`, [BIN, "run", "-c", join(d, "storeventd.toml")], "started", { FAKE_DRBDSETUP_DIR: join(d, "fake") })));
  // The fake drbdsetup prints its FIFO: the initial dump, then disk state flips of res1/0.
  const feeds = hd.map((d) => {
    const w = Bun.spawn(["sh", "-c", `exec cat > "${d}/fake/stream"`], { stdin: "pipe" });
    procs.add(w as unknown as Proc);
    w.stdin.write(DUMP);
    w.stdin.flush();
    return w;
  });
  let flips = 0;
  const flip = async (n: number, gapMs: number) => {
    for (let i = 0; i < n; i++, flips++) {
      const line = DEV.replace("disk:UpToDate", flips % 2 ? "disk:UpToDate" : "disk:Outdated") + "\n";
      for (const w of feeds) w.stdin.write(line);
      for (const w of feeds) w.stdin.flush();
      await Bun.sleep(gapMs);
    }
  };
  const stored = async () => (await fleetEvents(fd)).filter((e) => e.hostname.startsWith("stor-") && e.source !== "fleet");

  await flip(150, 4);
  await until("events in the fleet store", async () => (await stored()).length > 100);
  // The NATS server the fleet node is connected to dies mid-stream: deliveries in flight to it are
  // lost, and the cumulative ack must not pass them.
  const peer = Bun.spawnSync(["ip", "netns", "exec", "fleet19-f", "ss", "-Htn", "state", "established", "( dport = :4222 )"]).stdout.toString();
  const victim = [1, 2, 3].find((i) => peer.includes(`10.19.0.1${i}:4222`));
  expect(victim).toBeDefined();
  const fleetSender = async () => JSON.parse((await runBin(["status", "--json", "--socket", join(fd, "ctl.sock")])).stdout).instances.find((i: { name: string }) => i.name === "fleet").extra;
  const atKill = (await fleetSender()).received as number;
  await kill(nats[victim! - 1]!, "SIGKILL");
  await flip(150, 4);
  const after = await until("the fleet node consuming again after the failover", async () => {
    const st = await fleetSender();
    return st.received > atKill + 100 ? st : undefined;
  }, 20_000);
  console.log(`fleet e2e: killed n${victim} (the fleet node's server) at ${atKill} received; then ack_floor ${after.ack_floor}, handled above it ${after.handled_above_floor}, gap look-ups ${after.gap_lookups}, received ${after.received}`);
  await kill(fleet, "SIGKILL"); // the fleet node dies mid-stream
  await flip(100, 4);
  fleet = await start("fleet19-f", [BIN, "run", "-c", join(fd, "storeventd.toml")], "started");
  await flip(100, 4);
  // The restarted node knows the stored ids (what it stored but had not acked comes again).
  const restarted = logs.get(`fleet19-f storeventd (${fleet.pid})`)!;
  await until("the restarted fleet node reading the stored ids", () => /remembered the ids of the newest [1-9]\d* stored events/.test(restarted()), 15_000);

  const want = () => hd.flatMap(hostEvents);
  await until("every host event in the fleet store", async () => (await stored()).length >= want().length && want().length >= 3 * 500, 60_000).catch(async (e) => {
    const st = async (d: string) => JSON.stringify(JSON.parse((await runBin(["status", "--json", "--socket", join(d, "ctl.sock")])).stdout).instances.filter((i: { name: string }) => i.name === "fleet" || i.name === "bus"));
    throw new Error(`${(e as Error).message.split("\n")[0]}: stored ${(await stored()).length} of ${want().length}\n${await st(fd)}\n${(await Promise.all(hd.map(st))).join("\n")}`);
  });
  await Bun.sleep(1500); // late redeliveries would show up now
  const got = await stored();
  const ids = got.map((e) => e.event_id);
  expect(new Set(ids).size).toBe(ids.length); // nothing twice
  const byId = new Map(got.map((e) => [e.event_id, e]));
  for (const e of want()) expect(byId.get(e.event_id)).toEqual(e); // nothing lost, nothing re-stamped
  expect(got.length).toBe(want().length);
  for (const h of ["stor-1", "stor-2", "stor-3"]) expect(got.filter((e) => e.hostname === h && e.event_type === "DRBD_DISK_STATE_CHANGED").length).toBe(500);
  const fleetStatus = JSON.parse((await runBin(["status", "--json", "--socket", join(fd, "ctl.sock")])).stdout);
  const sender = fleetStatus.instances.find((i: { name: string }) => i.name === "fleet");
  console.log(`fleet e2e: ${got.length} host events stored once; fleet node after restart: ${JSON.stringify(sender.extra)}`);

  // Latency: the host's event time -> the fleet node's web console WebSocket (in its namespace), light load.
  const ws = spawnIn("fleet19-f", [process.execPath, join(import.meta.dir, "ws-latency.ts"), "ws://127.0.0.1:8919/v1/events?type=DRBD_DISK_STATE_CHANGED&host=stor-1", "100"]);
  procs.add(ws);
  const wsOut = new Response(ws.stdout).text();
  await Bun.sleep(1000); // the page connects
  await flip(100, 20);
  await Promise.race([ws.exited, Bun.sleep(10_000)]);
  const lat = (JSON.parse((await wsOut).trim().split("\n").pop() ?? "[]") as number[]).sort((a, b) => a - b);
  console.log(`fleet e2e latency host event -> fleet web WebSocket: n=${lat.length} p50=${lat[Math.floor(lat.length * 0.5)]} ms p99=${lat[Math.floor(lat.length * 0.99)]} ms`);
  expect(lat.length).toBe(100);

  // A host dies: HOST_SILENT 3 heartbeats after it was last heard (plus the tracker's 250 ms tick).
  await kill(hosts[2]!, "SIGKILL");
  const t0 = Date.now();
  const silent = await until("HOST_SILENT", async () => (await fleetEvents(fd)).find((e) => e.event_type === "HOST_SILENT"), 10_000);
  const took = Date.now() - t0;
  console.log(`fleet e2e: HOST_SILENT for ${silent.hostname} ${took} ms after the host was killed, ${Date.parse(silent.time) - Date.parse(silent.extension.last_seen as string)} ms after it was last heard (heartbeat ${HB_S}s)`);
  expect(silent.hostname).toBe("stor-3");
  const afterLastSeen = Date.parse(silent.time) - Date.parse(silent.extension.last_seen as string);
  expect(afterLastSeen).toBeGreaterThanOrEqual(3 * HB_S * 1000);
  expect(afterLastSeen).toBeLessThan(3 * HB_S * 1000 + 1000);
  expect(took).toBeLessThan((3 * HB_S + 2) * 1000);

  // Two hosts report res0 Primary.
  for (const w of feeds.slice(0, 2)) {
    w.stdin.write(ROLE("Primary") + "\n");
    w.stdin.flush();
  }
  const multi = await until("DRBD_MULTIPLE_PRIMARY", async () => (await fleetEvents(fd)).find((e) => e.event_type === "DRBD_MULTIPLE_PRIMARY"), 10_000);
  expect(multi.extension).toMatchObject({ resource: "res0", hosts: ["stor-1", "stor-2"] });
  const fleetView = JSON.parse((await runBin(["status", "--fleet", "--json", "--socket", join(fd, "ctl.sock")])).stdout);
  expect(fleetView.hosts.map((h: { hostname: string; state: string }) => [h.hostname, h.state])).toEqual([["stor-1", "alive"], ["stor-2", "alive"], ["stor-3", "silent"]]);
  expect(fleetView.drbd.filter((r: { resource: { name: string; role: string } }) => r.resource.name === "res0" && r.resource.role === "Primary").map((r: { host: string }) => r.host)).toEqual(["stor-1", "stor-2"]);
  for (const w of feeds) w.stdin.end();
  await Promise.all([kill(fleet, "SIGTERM"), ...hosts.slice(0, 2).map((h) => kill(h, "SIGTERM"))]);
}, 170_000);
