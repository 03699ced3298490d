// The compiled daemon on a drbd-reactor style config with [[agentx]]: the fake drbdsetup's
// recorded stream reaches snmpd's walk with the values of the recorded `drbdsetup status --json`
// of the same cluster state (a golden file, not derived from our code); stopping the daemon
// takes the subtree away at once.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Snmpd, freeUdpPort } from "./snmpd-harness.ts";
import { runBin, startDaemon } from "../../../test/helpers/bin.ts";
import { freePort } from "../../../test/helpers/receiver.ts";
import { waitFor } from "../../../test/helpers/wait.ts";

const streams = join(import.meta.dir, "../../../test/drbd/streams");
const T = ".1.3.6.1.4.1.23302.1.2.1";
const dir = mkdtempSync(join(tmpdir(), "agentx14-daemon-"));
let snmpd: Snmpd | undefined;
afterAll(async () => {
  await snmpd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface StatusDevice {
  volume: number; minor: number; "disk-state": string; client: boolean; quorum: boolean; size: number; read: number;
  written: number; "al-writes": number; "bm-writes": number; "upper-pending": number; "lower-pending": number;
}
interface StatusResource {
  name: string; role: string; suspended: boolean; "force-io-failures": boolean; "write-ordering": string;
  devices: StatusDevice[];
  connections: { peer_devices: { volume: number; "replication-state": string; "peer-disk-state": string }[] }[];
}

/** The walk lines drbd-reactor's MIB gives for a `drbdsetup status --json` document (no may_promote,
 * promotion score, backing device, al-suspended, blocked there: those columns are not compared). */
function fromStatusJson(doc: StatusResource[]): Map<string, string> {
  const e = new Map<string, string>();
  const tv = (b: boolean) => `INTEGER: ${b ? 1 : 2}`;
  for (const r of doc) {
    for (const d of r.devices) {
      const peers = r.connections.flatMap((c) => c.peer_devices).filter((p) => p.volume === d.volume);
      const at = (col: number, v: string) => e.set(`${T}.${col}.${d.minor}`, v);
      at(1, `INTEGER: ${d.minor}`);
      at(2, `STRING: "${r.name}"`);
      at(3, `STRING: "${r.role}"`);
      at(4, tv(r.suspended));
      at(5, `STRING: "${r["write-ordering"]}"`);
      at(6, tv(r["force-io-failures"]));
      at(9, `INTEGER: ${d.volume}`);
      at(10, `STRING: "${d["disk-state"]}"`);
      at(12, tv(d.client));
      at(13, tv(d.quorum));
      at(14, `Gauge32: ${d.size}`);
      at(15, "Gauge32: 1024");
      at(16, `Counter64: ${d.read}`);
      at(17, `Counter64: ${d.written}`);
      at(18, `Counter64: ${d["al-writes"]}`);
      at(19, `Counter64: ${d["bm-writes"]}`);
      at(20, `Gauge32: ${d["upper-pending"]}`);
      at(21, `Gauge32: ${d["lower-pending"]}`);
      at(24, `INTEGER: ${peers.length}`);
      at(34, `INTEGER: ${peers.filter((p) => p["peer-disk-state"] === "UpToDate").length}`);
      at(36, `INTEGER: ${peers.filter((p) => p["replication-state"] === "Established").length}`);
    }
  }
  return e;
}

function parseWalk(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(" = ");
    if (line.startsWith(".") && i > 0) m.set(line.slice(0, i), line.slice(i + 3));
  }
  return m;
}

test("storeventd run with [[agentx]] in a drbd-reactor config: snmpwalk shows the cluster's status", async () => {
  const master = (snmpd = new Snmpd(join(dir, "snmpd"), await freePort(), await freeUdpPort()));
  const fake = join(dir, "fake");
  mkdirSync(fake);
  writeFileSync(join(fake, "stream"), readFileSync(join(streams, "lifecycle.events2")));
  const cfg = join(dir, "drbd-reactor.toml");
  writeFileSync(cfg, `statistics-poll-interval = 60

[main]
hostname = "node-a"
state_dir = "${dir}/state"
control_socket = "${dir}/ctl.sock"

[[agentx]]
address = "127.0.0.1:${master.agentxPort}"
cache-max = 0
`);
  const check = await runBin(["check", "-c", cfg]);
  expect(check.stdout).toContain("receivers: agentx[0] (agentx)");
  expect(check.code).toBe(0);

  await master.start();
  const env = {
    FAKE_DRBDSETUP_DIR: fake,
    PATH: `${join(import.meta.dir, "../../../test/drbd/bin")}:${join(import.meta.dir, "testdata/bin")}:${process.env.PATH}`,
  };
  const d = await startDaemon(["run", "-c", cfg], (s) => s.includes("registered 1.3.6.1.4.1.23302"), env);
  try {
    const want = fromStatusJson(JSON.parse(readFileSync(join(streams, "lifecycle.status.json"), "utf8")) as StatusResource[]);
    // The stream ends with r1 gone and new0 created: wait for the last of it to be applied.
    let walk = new Map<string, string>();
    await waitFor(async () => {
      walk = parseWalk(await master.tool("snmpwalk", ".1.3.6.1.4.1.23302"));
      return walk.get(`${T}.17.1030`) === want.get(`${T}.17.1030`) && !walk.has(`${T}.1.1010`);
    }, 15_000, "the end of the stream in the walk");
    for (const [oid, value] of want) expect(`${oid} = ${walk.get(oid)}`).toBe(`${oid} = ${value}`);
    expect([...walk.keys()].filter((k) => k.startsWith(`${T}.1.`))).toEqual([`${T}.1.1000`, `${T}.1.1020`, `${T}.1.1030`]);
    expect(walk.get(".1.3.6.1.4.1.23302.1.1.1")).toBe('STRING: "9.2.12"'); // the fake drbdadm's module version
  } finally {
    d.proc.kill("SIGTERM");
    await d.proc.exited;
  }
  expect(await master.tool("snmpget", `${T}.2.1000`)).toContain("No Such Object");
  await master.stop();
}, 60_000);
