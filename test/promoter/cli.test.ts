// `storeventd promoter ...` against a real HTTP server on a unix socket serving promoterRoute,
// backed by a simulated three-node cluster (the node answering is alpha).
import { PROMOTER_SERVICE } from "../../plugins/receiver/promoter/controller.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promoterCommand } from "../../plugins/receiver/promoter/cli.ts";
import { promoterRoute } from "../../plugins/receiver/promoter/http.ts";
import { PromoterHub } from "../../plugins/receiver/promoter/controller.ts";
import { ServiceMap } from "../../src/util/services.ts";
import { SimHarness } from "./harness.ts";
import { SimCluster } from "./sim.ts";

let dir = "";
let sock = "";
let emptySock = "";
let servers: ReturnType<typeof Bun.serve>[] = [];
let h: SimHarness;

function serve(path: string, services: ServiceMap) {
  const s = Bun.serve({ unix: path, fetch: (req) => promoterRoute.handle(req, services) ?? new Response("not found\n", { status: 404 }) });
  servers.push(s);
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await promoterCommand(argv, { out: (s) => void (out += `${s}\n`), err: (s) => void (err += `${s}\n`), isTTY: false });
  return { code, out, err };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "promoter-cli-"));
  sock = join(dir, "control.sock");
  emptySock = join(dir, "empty.sock");
  h = new SimHarness(new SimCluster("r0", ["alpha", "bravo", "charlie"]));
  await h.startAll({ resources: { r0: { start: ["fs-r0.mount", "app.service"], "preferred-nodes": ["alpha", "bravo", "charlie"] } } });
  await h.clock.advance(1000);
  const services = new ServiceMap();
  const hub = new PromoterHub();
  hub.add(h.node("alpha").controller!);
  services.provide(PROMOTER_SERVICE, hub);
  serve(sock, services);
  serve(emptySock, new ServiceMap());
});

afterAll(async () => {
  for (const s of servers) s.stop(true);
  await h.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe("storeventd promoter", () => {
  test("status prints where the resource runs and the target's units as a tree", async () => {
    const r = await run("--socket", sock, "status");
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toBe("r0 on alpha: active");
    expect(lines[1]).toBe("  role Primary, quorum yes, may_promote no, primary on this node, policy quorum, runner systemd");
    expect(lines[2]).toMatch(/^ {2}last: start \(may_promote\) ok, \d+s ago$/);
    expect(lines.slice(3)).toEqual([
      "  ● drbd-services@r0.target    active (active)",
      "  ├ ● drbd-promote@r0.service  active (exited)",
      "  ├ ● fs-r0.mount              active (running)",
      "  └ ● app.service              active (running)",
    ]);
  });

  test("status --json RES is the resource's report", async () => {
    const r = await run("--socket", sock, "status", "r0", "--json");
    expect(r.code).toBe(0);
    const body = JSON.parse(r.out);
    expect(body.ok).toBe(true);
    expect(body.resources).toHaveLength(1);
    expect(body.resources[0]).toMatchObject({ resource: "r0", node: "alpha", state: "active", role: "Primary", runner: "systemd", target: "drbd-services@r0.target" });
  });

  test("maintenance on/off, disable --now, enable, evict --to go through the daemon", async () => {
    let r = await run("--socket", sock, "maintenance", "r0", "on");
    expect([r.code, r.out.trim()]).toEqual([0, "r0: maintenance on (no actions; services keep running)"]);
    expect((await run("--socket", sock, "status")).out.split("\n")[0]).toBe("r0 on alpha: active [maintenance]");
    r = await run("--socket", sock, "maintenance", "r0", "off");
    expect(r.code).toBe(0);
    r = await run("--socket", sock, "disable", "r0", "--now");
    expect([r.code, r.out.trim()]).toEqual([0, "r0: disabled, services stopped"]);
    expect(h.node("alpha").runner.running).toBe(false);
    await h.clock.advance(1500);
    expect(h.active()).toEqual(["bravo"]);
    r = await run("--socket", sock, "enable", "r0");
    expect([r.code, r.out.trim()]).toEqual([0, "r0: enabled"]);
    r = await run("--socket", sock, "evict", "r0", "--to", "charlie");
    expect(r.code).toBe(0);
    expect(r.out).toContain("not promoting on alpha for 60000 ms or until charlie is Primary");
  });

  test("errors: unknown resource, no promoter, unreachable socket, usage", async () => {
    let r = await run("--socket", sock, "evict", "nope");
    expect([r.code, r.err.trim()]).toEqual([1, `storeventd promoter: no [[promoter]] manages resource "nope"`]);
    r = await run("--socket", sock, "status", "nope");
    expect(r.code).toBe(1);
    r = await run("--socket", emptySock, "status");
    expect([r.code, r.err.trim()]).toEqual([1, "storeventd promoter: no [[promoter]] is configured in this daemon"]);
    r = await run("--socket", join(dir, "missing.sock"), "status");
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot reach the daemon at ${join(dir, "missing.sock")}`);
    for (const argv of [["maintenance", "r0", "maybe"], ["evict"], ["bogus"], ["status", "--to", "x"], ["enable", "r0", "--now"]]) {
      r = await run("--socket", sock, ...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.err).toContain("Usage: storeventd promoter");
    }
  });

  test("the socket comes from the config's [main] control_socket", async () => {
    const cfg = join(dir, "storeventd.toml");
    writeFileSync(cfg, `[main]\ncontrol_socket = "${sock}"\n`);
    const r = await run("-c", cfg, "status", "r0", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).resources[0].resource).toBe("r0");
  });

  test("routes: wrong method and unknown action", async () => {
    const get = await fetch("http://localhost/v1/promoter/r0/evict", { unix: sock } as RequestInit);
    expect(get.status).toBe(405);
    const bad = await fetch("http://localhost/v1/promoter/r0/explode", { method: "POST", unix: sock } as RequestInit);
    expect(bad.status).toBe(404);
    expect(await bad.json()).toEqual({ error: "not_found", detail: `unknown action "explode"; one of evict, disable, enable, maintenance` });
    expect(get.headers.get("allow")).toBe("POST");
    const other = await fetch("http://localhost/v1/status", { unix: sock } as RequestInit);
    expect(await other.text()).toBe("not found\n"); // not ours: promoterRoute falls through
  });
});
