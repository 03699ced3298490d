// DRBD_NO_PRIMARY end to end: three real host daemons (compiled binary), each with a [[promoter]]
// for r0 (shell runner) and the drbd sender on the fake drbdsetup of the promoter cluster simulator
// (test/promoter/cluster), publishing heartbeats with the nats receiver to a real nats-server on
// 127.0.0.1; one fleet node (nats sender + store). Cutting every DRBD link leaves no node with
// quorum: the active node stops its stack and demotes, nobody may promote, and the fleet node
// reports DRBD_NO_PRIMARY once, no_primary_after after it last saw a Primary. Healing brings a
// Primary back, which clears it: the next outage is reported again.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "../helpers/bin.ts";
import { freePort, waitForPort } from "../helpers/receiver.ts";
import { drbdConfig, FileSim } from "../promoter/cluster/file-sim.ts";
import { SimCluster } from "../promoter/sim.ts";
import type { StorageEvent } from "../../src/event.ts";

const natsServer = Bun.which("nats-server") ?? Bun.which("nats-server", { PATH: "/usr/sbin:/usr/bin" });
const NODES = ["alpha", "bravo", "charlie"];
const FAKE = join(import.meta.dir, "../promoter/cluster");
const NO_PRIMARY_S = 3;
const dir = mkdtempSync(join(tmpdir(), "fleet19-noprimary-"));
const fsim = new FileSim(dir, new SimCluster("r0", NODES), true);
const procs: ReturnType<typeof Bun.spawn>[] = [];
const stderr = new Map<string, string>();

afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  fsim.close();
  rmSync(dir, { recursive: true, force: true });
});

function spawn(name: string, argv: string[], env: Record<string, string> = {}): void {
  const p = Bun.spawn(argv, { env: { ...process.env, ...env }, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  procs.push(p);
  stderr.set(name, "");
  void (async () => {
    for await (const c of p.stderr as ReadableStream<Uint8Array>) stderr.set(name, stderr.get(name) + new TextDecoder().decode(c));
  })();
}

async function until<T>(what: string, f: () => T | Promise<T>, ms: number): Promise<NonNullable<T>> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (performance.now() > end) {
      const tails = [...stderr].map(([k, t]) => `--- ${k}:\n${t.split("\n").slice(-8).join("\n")}`).join("\n");
      throw new Error(`timed out waiting for ${what}; sim primaries: ${fsim.sim.primaries().join(",")}\n${tails}`);
    }
    await Bun.sleep(50);
  }
}

const running = () => NODES.filter((n) => existsSync(join(dir, `active.${n}`)));

function hostConfig(node: string, nats: string): string {
  return `[main]
hostname = "${node}"
state_dir = "${dir}/state-${node}"
control_socket = "${dir}/${node}.sock"

${drbdConfig(`${FAKE}/drbdsetup`)}
[bus]
type = "receiver"
plugin = "nats"
servers = ["${nats}"]
jetstream = true
create_stream = false
heartbeat = "1s"

[[promoter]]
node-name = "${node}"
drbdsetup = "${FAKE}/drbdsetup"
drbdadm = "${FAKE}/drbdadm"
retry-interval = "1s"
[promoter.resources.r0]
runner = "shell"
start = ["${FAKE}/drbdsetup primary r0", "echo ${node} > ${dir}/active.${node}"]
stop = ["rm -f ${dir}/active.${node}", "${FAKE}/drbdsetup secondary r0"]
preferred-nodes = ["alpha", "bravo", "charlie"]
`;
}

const fleetSock = join(dir, "fleet.sock");
async function fleetGet<T>(path: string): Promise<T> {
  const r = await fetch(`http://localhost${path}`, { unix: fleetSock } as RequestInit);
  return (await r.json()) as T;
}
const noPrimary = async () => (await fleetGet<StorageEvent[]>("/v1/events?limit=1000")).filter((e) => e.event_type === "DRBD_NO_PRIMARY");
const fleetPrimaries = async () =>
  (await fleetGet<{ host: string; resource: { name: string; role: string } }[]>("/v1/fleet/drbd")).filter((r) => r.resource.name === "r0" && r.resource.role === "Primary").map((r) => r.host);

/** Cuts every DRBD link; returns when no node is Primary (the clock the fleet node is judged by). */
async function outage(): Promise<number> {
  fsim.sim.isolate("alpha");
  fsim.sim.cut("bravo", "charlie");
  await until("the active node to stop on quorum loss", () => running().length === 0 && fsim.sim.primaries().length === 0, 10_000);
  return Date.now();
}

test("DRBD_NO_PRIMARY: promoter-managed r0 without a Primary on any host for no_primary_after, once; a Primary clears it", async () => {
  expect(natsServer).toBeTruthy();
  expect(existsSync(BIN)).toBe(true);
  const port = await freePort();
  const nats = `nats://127.0.0.1:${port}`;
  spawn("nats-server", [natsServer!, "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", join(dir, "js")]);
  await waitForPort(port, "nats-server");
  mkdirSync(join(dir, "fleet"));
  writeFileSync(join(dir, "fleet.toml"), `[main]
hostname = "fleet"
state_dir = "${dir}/fleet/state"
control_socket = "${fleetSock}"
[fleet]
type = "sender"
plugin = "nats"
servers = ["${nats}"]
heartbeat = "1s"
no_primary_after = "${NO_PRIMARY_S}s"
[store]
type = "receiver"
flush_interval = "100ms"
`);
  spawn("fleet", [BIN, "run", "-c", join(dir, "fleet.toml")]);
  await until("the fleet node", () => stderr.get("fleet")!.includes("started"), 20_000);
  for (const n of NODES) {
    writeFileSync(join(dir, `${n}.toml`), hostConfig(n, nats));
    spawn(n, [BIN, "run", "-c", join(dir, `${n}.toml`)], { SIM_DIR: dir, SIM_NODE: n });
  }
  await until("alpha to run r0", () => running().join() === "alpha", 20_000);
  await until("the fleet node to see alpha Primary", async () => (await fleetPrimaries()).join() === "alpha", 10_000);
  expect(await noPrimary()).toEqual([]);

  const t1 = await outage();
  const [first] = await until("DRBD_NO_PRIMARY", async () => (await noPrimary()).length ? await noPrimary() : undefined, 15_000);
  const since = Date.parse(first!.extension.since as string);
  const at = Date.parse(first!.time);
  console.log(`DRBD_NO_PRIMARY ${at - t1} ms after the last Primary demoted; ${at - since} ms after the fleet node saw no Primary (no_primary_after ${NO_PRIMARY_S} s, heartbeat 1 s)`);
  expect(first!.extension).toMatchObject({ resource: "r0", hosts: NODES, fleet_node: "fleet" });
  expect(first!.severity).toBe("error");
  expect(at - since).toBeGreaterThanOrEqual(NO_PRIMARY_S * 1000);
  expect(at - since).toBeLessThan(NO_PRIMARY_S * 1000 + 1000);
  expect(since).toBeGreaterThanOrEqual(t1 - 1000); // no earlier than the last heartbeat showing a Primary
  expect(since - t1).toBeLessThan(2500); // the next heartbeats (1 s) show the demotion
  await Bun.sleep(NO_PRIMARY_S * 1000 + 1000);
  expect((await noPrimary()).length).toBe(1); // once per outage

  // A Primary comes back: the outage is over; a new one is reported again.
  fsim.sim.heal();
  await until("a Primary after heal", () => running().length === 1 && fsim.sim.primaries().length === 1, 15_000);
  await until("the fleet node to see the Primary", async () => (await fleetPrimaries()).length === 1, 10_000);
  expect((await noPrimary()).length).toBe(1);
  const t2 = await outage();
  await until("a second DRBD_NO_PRIMARY", async () => (await noPrimary()).length === 2, 15_000);
  const second = (await noPrimary()).find((e) => e.event_id !== first!.event_id)!;
  expect(Date.parse(second.extension.since as string)).toBeGreaterThan(at);
  expect(Date.parse(second.time) - t2).toBeGreaterThanOrEqual(NO_PRIMARY_S * 1000 - 1000);
  expect(fsim.doublePrimary()).toEqual([]);
}, 90_000);
