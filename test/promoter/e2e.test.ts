// Three real daemons (the compiled dist/storeventd) on this host, one per simulated node, each with
// the drbd sender running the fake drbdsetup (test/promoter/cluster/drbdsetup) against one shared
// cluster simulator, and a [[promoter]] with the shell runner (this host has no systemd as PID 1;
// the systemd runner's units are verified in units.test.ts). The services write marker files so
// the test sees who runs them. Failover times are wall-clock.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, runBin } from "../helpers/bin.ts";
import { drbdConfig, FileSim } from "./cluster/file-sim.ts";
import { SimCluster } from "./sim.ts";

const NODES = ["alpha", "bravo", "charlie"];
const FAKE = join(import.meta.dir, "cluster");
let dir = "";
let fsim: FileSim;
const daemons = new Map<string, { proc: ReturnType<typeof Bun.spawn>; out: string[] }>();

function config(node: string, extra = ""): string {
  return `[main]
hostname = "${node}"
state_dir = "${dir}/state-${node}"
control_socket = "${dir}/${node}.sock"
log_level = "info"

${drbdConfig(`${FAKE}/drbdsetup`)}
[[promoter]]
node-name = "${node}"
drbdsetup = "${FAKE}/drbdsetup"
drbdadm = "${FAKE}/drbdadm"
retry-interval = "2s"
[promoter.resources.r0]
runner = "shell"
start = ["${FAKE}/drbdsetup primary r0", "echo ${node} > ${dir}/active.${node}"]
stop = ["rm -f ${dir}/active.${node}", "${FAKE}/drbdsetup secondary r0"]
preferred-nodes = ["alpha", "bravo", "charlie"]
${extra}
`;
}

function start(node: string, extra = ""): void {
  const cfg = join(dir, `${node}.toml`);
  writeFileSync(cfg, config(node, extra));
  const proc = Bun.spawn([BIN, "run", "-c", cfg], {
    env: { ...process.env, SIM_DIR: dir, SIM_NODE: node }, stdin: "ignore", stdout: "pipe", stderr: "pipe",
  });
  const out: string[] = [];
  daemons.set(node, { proc, out });
  void (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      buf += dec.decode(chunk, { stream: true });
      const lines = buf.split("\n");
      buf = lines.pop()!;
      out.push(...lines);
    }
  })();
  void new Response(proc.stderr as ReadableStream).text().then((t) => t && process.env.PROMOTER_E2E_DEBUG && console.error(`[${node}] ${t}`));
}

function running(): string[] {
  return NODES.filter((n) => existsSync(join(dir, `active.${n}`)));
}

function events(node: string): string[] {
  return daemons.get(node)!.out.filter((l) => l.includes("DRBD_PROMOTER_"))
    .map((l) => JSON.parse(l) as { event_type: string; extension: { reason?: string } })
    .map((e) => `${e.event_type}:${e.extension.reason ?? ""}`);
}

/** Polls (every 20 ms) until pred holds, checking there is never a double Primary; returns the ms it took. */
async function waitFor(pred: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    expect(fsim.sim.doublePrimary).toEqual([]);
    if (pred()) return Math.round(performance.now() - t0);
    await Bun.sleep(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms; running: ${running().join(",")}; primaries: ${fsim.sim.primaries().join(",")}`);
}

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: npm run build`);
  dir = mkdtempSync(join(tmpdir(), "promoter-e2e-"));
  fsim = new FileSim(dir, new SimCluster("r0", NODES), true);
});

afterAll(async () => {
  for (const { proc } of daemons.values()) proc.kill("SIGKILL");
  await Promise.all([...daemons.values()].map((d) => d.proc.exited));
  fsim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("promoter end to end (compiled binary, three daemons, simulated DRBD)", () => {
  test("storeventd check accepts the promoter config and reports an invalid combination", async () => {
    writeFileSync(join(dir, "check.toml"), config("alpha"));
    const ok = await runBin(["check", "-c", join(dir, "check.toml")]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("promoter[0] (promoter)");
    writeFileSync(join(dir, "bad.toml"), config("alpha", `on-quorum-loss = "freeze"`));
    const bad = await runBin(["check", "-c", join(dir, "bad.toml")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(`[[promoter]] #1 resources.r0.on-quorum-loss: on-quorum-loss = "freeze" needs runner = "systemd": the shell runner cannot freeze services (${join(dir, "bad.toml")}:${config("alpha", `on-quorum-loss = "freeze"`).split("\n").indexOf(`on-quorum-loss = "freeze"`) + 1})`);
  });

  test("cold start: exactly one node runs the stack, the preferred one", async () => {
    for (const n of NODES) start(n);
    const ms = await waitFor(() => running().length > 0, 15_000);
    await Bun.sleep(2500); // the others' sleeps (1 s, 2 s) pass without a second start
    expect(running()).toEqual(["alpha"]);
    expect(fsim.sim.primaries()).toEqual(["alpha"]);
    expect(events("alpha")).toEqual(["DRBD_PROMOTER_STARTING:may_promote", "DRBD_PROMOTER_STARTED:may_promote"]);
    // bravo and charlie slept (if they came up before alpha promoted) and never started.
    for (const n of ["bravo", "charlie"]) expect(events(n).filter((e) => !e.startsWith("DRBD_PROMOTER_STARTING:"))).toEqual([]);
    console.log(`cold start: alpha active after ${ms} ms`);
  }, 30_000);

  test("kill the active node: bravo takes over within its computed delay (1 s) plus detection", async () => {
    daemons.get("alpha")!.proc.kill("SIGKILL");
    await daemons.get("alpha")!.proc.exited;
    rmSync(join(dir, "active.alpha"), { force: true }); // the node's services died with it
    fsim.kill("alpha");
    const ms = await waitFor(() => running().includes("bravo"), 10_000);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(3000);
    expect(fsim.sim.primaries()).toEqual(["bravo"]);
    console.log(`failover after kill: ${ms} ms (computed delay 1000 ms)`);
  }, 20_000);

  test("isolate the active node: it stops on quorum loss, charlie cannot promote alone (no quorum)", async () => {
    // alpha is dead: bravo + charlie are 2 of 3. Cutting them apart leaves nobody with quorum.
    fsim.sim.isolate("bravo");
    const ms = await waitFor(() => !running().includes("bravo"), 5000);
    await waitFor(() => events("bravo").includes("DRBD_PROMOTER_STOPPED:quorum lost"), 2000);
    await Bun.sleep(3000);
    expect(running()).toEqual([]);
    expect(fsim.sim.primaries()).toEqual([]);
    console.log(`stop after quorum loss: ${ms} ms`);
  }, 20_000);

  test("heal and alpha's return: one Primary at every sample, fail-back to alpha (policy always)", async () => {
    fsim.sim.heal();
    const first = await waitFor(() => running().length > 0, 10_000);
    expect(running()).toEqual(["bravo"]);
    fsim.sim.boot("alpha");
    start("alpha");
    const back = await waitFor(() => running().includes("alpha") && !running().includes("bravo"), 15_000);
    expect(events("bravo")).toContain("DRBD_PROMOTER_STOPPED:more preferred node alpha is UpToDate (fail back)");
    expect(fsim.sim.primaries()).toEqual(["alpha"]);
    console.log(`after heal: bravo active after ${first} ms; fail-back to alpha after ${back} ms`);
  }, 30_000);

  test("stop-services-on-exit: SIGTERM stops the services, the next node takes over", async () => {
    daemons.get("alpha")!.proc.kill("SIGKILL");
    await daemons.get("alpha")!.proc.exited;
    // alpha keeps its services without stop-services-on-exit (a daemon crash does not stop them) ...
    expect(running()).toContain("alpha");
    start("alpha", "stop-services-on-exit = true");
    await Bun.sleep(1500);
    expect(running()).toEqual(["alpha"]);
    // ... and stops them on a clean exit with it.
    daemons.get("alpha")!.proc.kill("SIGTERM");
    expect(await daemons.get("alpha")!.proc.exited).toBe(0);
    expect(running()).not.toContain("alpha");
    // (its STOPPED event is emitted while the daemon's receivers shut down: the in-process test checks it)
    expect(fsim.log.filter((l) => l.startsWith("alpha: secondary")).at(-1)).toBe("alpha: secondary r0 -> 0");
    const ms = await waitFor(() => running().includes("bravo"), 10_000);
    console.log(`takeover after stop-services-on-exit: ${ms} ms`);
    expect(readFileSync(join(dir, "active.bravo"), "utf8")).toBe("bravo\n");
  }, 30_000);
});
