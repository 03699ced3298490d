// agentx against a real net-snmp snmpd (Debian's) as AgentX master: the subagent registers even
// when snmpd comes up after it, snmpwalk/snmpget/snmpbulkwalk show the model (a recorded events2
// stream), a resource appearing and disappearing shows in the next walk, an snmpd restart is
// survived, and close() takes the registration away at once.
import { DRBD_MODEL_SERVICE } from "../../../src/plugin-kit/drbd.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import plugin from "./index.ts";
import { Snmpd, freeUdpPort } from "./snmpd-harness.ts";
import { decodeEvents2Text } from "../../../src/plugin-kit/drbd.ts";
import { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import type { Receiver } from "../../../src/plugin-api.ts";
import { makeContext } from "../../../test/helpers/context.ts";
import { freePort } from "../../../test/helpers/receiver.ts";
import { waitFor } from "../../../test/helpers/wait.ts";

const T = ".1.3.6.1.4.1.23302.1.2.1";
const stream = readFileSync(join(import.meta.dir, "../../../test/drbd/streams/lifecycle.events2"), "utf8").split("\n");
// Lines before "destroy ... r1": r0, r1 (two volumes) and web exist.
const cut = stream.findIndex((l) => l.startsWith("destroy path name:r1"));

const dir = mkdtempSync(join(tmpdir(), "agentx14-snmpd-"));
const model = new DrbdModel();
const { ctx, rec } = makeContext({ instance: "agentx-test" });
ctx.services.provide(DRBD_MODEL_SERVICE, model);
let snmpd: Snmpd;
let inst: Receiver;
const status = () => inst.status!() as { state: string; connects: number; sessions: number };

function feed(lines: string[]): void {
  for (const r of decodeEvents2Text(lines.join("\n") + "\n")) model.apply(r, () => {});
}

/** snmpwalk -On output as OID -> "TYPE: value". */
function parseWalk(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(" = ");
    if (line.startsWith(".") && i > 0) m.set(line.slice(0, i), line.slice(i + 3));
  }
  return m;
}

/** What the walk must show, written from the model's objects (not from the plugin's code). */
function expected(): Map<string, string> {
  const e = new Map<string, string>([
    [".1.3.6.1.4.1.23302.1.1.1", 'STRING: "9.2.12"'], [".1.3.6.1.4.1.23302.1.1.2", 'STRING: "9.28.0"'],
  ]);
  const tv = (b: boolean) => `INTEGER: ${b ? 1 : 2}`;
  const disks = ["Diskless", "Attaching", "Detaching", "Failed", "Negotiating", "Inconsistent", "Outdated", "DUnknown", "Consistent", "UpToDate"];
  const repls = ["Off", "Established", "StartingSyncS", "StartingSyncT", "WFBitMapS", "WFBitMapT", "WFSyncUUID", "SyncSource", "SyncTarget", "VerifyS", "VerifyT", "PausedSyncS", "PausedSyncT", "Ahead", "Behind"];
  for (const r of model.resources()) {
    for (const d of r.devices.values()) {
      const peers = [...r.connections.values()].flatMap((c) => [...c.peerDevices.values()]).filter((p) => p.volume === d.volume);
      const cols: string[] = [
        `INTEGER: ${d.minor}`, `STRING: "${r.name}"`, `STRING: "${r.role}"`, tv(r.suspended !== "no"), `STRING: "${r.writeOrdering}"`,
        tv(r.forceIoFailures), tv(r.mayPromote), `INTEGER: ${r.promotionScore}`, `INTEGER: ${d.volume}`, `STRING: "${d.disk}"`,
        `STRING: "${d.backingDev}"`, tv(d.client), tv(d.quorum), `Gauge32: ${d.size}`, "Gauge32: 1024", `Counter64: ${d.read}`,
        `Counter64: ${d.written}`, `Counter64: ${d.alWrites}`, `Counter64: ${d.bmWrites}`, `Gauge32: ${d.upperPending}`,
        `Gauge32: ${d.lowerPending}`, tv(d.alSuspended), `STRING: "${d.blocked}"`, `INTEGER: ${peers.length}`,
        ...disks.map((s) => `INTEGER: ${peers.filter((p) => p.peerDisk === s).length}`),
        ...repls.map((s) => `INTEGER: ${peers.filter((p) => p.replication === s).length}`),
      ];
      cols.forEach((v, i) => e.set(`${T}.${i + 1}.${d.minor}`, v));
    }
  }
  return e;
}

beforeAll(async () => {
  process.env.PATH = `${join(import.meta.dir, "testdata/bin")}:${process.env.PATH}`; // the fake drbdadm
  snmpd = new Snmpd(dir, await freePort(), await freeUdpPort());
  feed(stream.slice(0, cut));
  inst = await plugin.create(
    { address: `127.0.0.1:${snmpd.agentxPort}`, "cache-max": 0, "agent-timeout": 5, "peer-states": true }, ctx,
  ) as Receiver;
});

afterAll(async () => {
  await inst?.close?.();
  await snmpd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("agentx with snmpd", () => {
  test("create() is inert; start() keeps retrying until snmpd is up, then registers", async () => {
    await Bun.sleep(300);
    expect(status()).toMatchObject({ state: "idle", connects: 0 });
    await inst.start!();
    await waitFor(() => status().connects >= 2, 10_000, "two failed connects");
    expect(status().state).not.toBe("registered");
    expect(rec.logs.filter((l) => l.includes("cannot register"))).toHaveLength(1); // one warning per outage
    await snmpd.start();
    await waitFor(() => status().state === "registered", 15_000, "registration");
    expect(rec.logs.some((l) => l.startsWith("info: agentx: registered 1.3.6.1.4.1.23302"))).toBe(true);
  });

  test("snmpwalk shows every row and column of the model", async () => {
    const walk = parseWalk(await snmpd.tool("snmpwalk", ".1.3.6.1.4.1.23302"));
    expect(walk).toEqual(expected());
    // Literal values of the recorded stream: r1 volume 1 is minor 1011 with 2097152 KiB.
    expect(walk.get(`${T}.2.1011`)).toBe('STRING: "r1"');
    expect(walk.get(`${T}.9.1011`)).toBe("INTEGER: 1");
    expect(walk.get(`${T}.14.1011`)).toBe("Gauge32: 2097152");
    expect(walk.get(`${T}.11.1010`)).toBe('STRING: "/dev/vg0/r1_0"');
    expect(walk.get(`${T}.8.1010`)).toBe("INTEGER: 10103");
    expect(walk.size).toBe(2 + 4 * 49);
  });

  test("snmpbulkwalk returns the same; snmpget answers objects and noSuchObject", async () => {
    expect(parseWalk(await snmpd.tool("snmpbulkwalk", ".1.3.6.1.4.1.23302"))).toEqual(expected());
    const got = await snmpd.tool("snmpget", `${T}.2.1000`, ".1.3.6.1.4.1.23302.1.1.1", `${T}.2.4242`);
    expect(got).toContain(`${T}.2.1000 = STRING: "r0"`);
    expect(got).toContain('.1.3.6.1.4.1.23302.1.1.1 = STRING: "9.2.12"');
    expect(got).toContain(`${T}.2.4242 = No Such Object available on this agent at this OID`);
  });

  test("a resource disappearing and one appearing show in the next walk", async () => {
    feed(stream.slice(cut));
    expect(model.resource("r1")).toBeUndefined();
    const walk = parseWalk(await snmpd.tool("snmpwalk", ".1.3.6.1.4.1.23302"));
    expect(walk).toEqual(expected());
    expect([...walk.keys()].filter((k) => k.startsWith(`${T}.2.`))).toEqual([`${T}.2.1000`, `${T}.2.1020`, `${T}.2.1030`]);
    expect(walk.get(`${T}.11.1030`)).toBe('STRING: "none"');
    expect(walk.get(`${T}.12.1030`)).toBe("INTEGER: 1"); // client: yes
    expect(walk.get(`${T}.3.1000`)).toBe('STRING: "Primary"');
  });

  test("snmpd restarts: the subagent registers again and serves", async () => {
    await snmpd.stop();
    await waitFor(() => status().state !== "registered", 10_000, "the session to drop");
    await snmpd.start();
    await waitFor(() => status().sessions === 2 && status().state === "registered", 20_000, "re-registration");
    expect(await snmpd.tool("snmpget", `${T}.2.1000`)).toContain(`${T}.2.1000 = STRING: "r0"`);
    expect(rec.logs.some((l) => l.startsWith("warn: agentx: lost the master agent"))).toBe(true);
  });

  test("close() sends Close: snmpd drops the registration at once", async () => {
    await inst.close!();
    expect(status().state).toBe("closed");
    expect(await snmpd.tool("snmpget", `${T}.2.1000`)).toContain("No Such Object");
  });
});
