// `storeventd ctl` / `drbd-reactorctl` (the compiled binary) on a drbd-reactor configuration in a
// temporary directory: snippet name resolution, ls/cat/status output, enable/disable/rm renaming
// files and reloading, evict's systemctl sequence, exit codes under both names, cluster contexts.
// The host has no systemd as PID 1, no DRBD and no second machine, so systemctl, drbdsetup and ssh
// are the logging fakes in bin/ (the systemd containers of test/reactor-migration.test.ts run
// the real systemctl and drbdsetup's simulator).
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "../helpers/bin.ts";

const root = mkdtempSync(join(tmpdir(), "storeventd-reactor14-ctl-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, "drbd-reactor.d");
const units = join(root, "units");
const log = join(root, "systemctl.log");
const cfg = join(root, "drbd-reactor.toml");
const linkDir = join(root, "bin");
mkdirSync(linkDir);
symlinkSync(BIN, join(linkDir, "drbd-reactorctl"));

const R0 = `[[promoter]]
[promoter.resources.r0]
start = ["ocf:heartbeat:IPaddr2 vip cidr_netmask=24 ip=10.0.0.9", "app@r0.service"]
`;

beforeEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(units, { recursive: true, force: true });
  rmSync(log, { force: true });
  mkdirSync(dir, { recursive: true });
  mkdirSync(units);
  writeFileSync(cfg, `snippets = "${dir}"\n[[log]]\nlevel = "info"\n`);
  writeFileSync(join(dir, "r0.toml"), R0);
  writeFileSync(join(dir, "prometheus.toml"), `[[prometheus]]\nenums = true\naddress = "127.0.0.1:9942"\n`);
  writeFileSync(join(dir, "umh.toml"), `[[umh]]\n[[umh.resource]]\ncommand = "logger $DRBD_RES_NAME"\n`);
  writeFileSync(join(dir, "dbg.toml.disabled"), `[[debugger]]\n`);
  writeFileSync(join(units, "drbd-services@r0.target.ActiveState"), "active");
  writeFileSync(join(units, "drbd-promote@r0.service.ActiveState"), "active");
  writeFileSync(join(units, "app@r0.service.ActiveState"), "failed");
  writeFileSync(join(units, "app@r0.service.FreezerState"), "frozen");
  writeFileSync(join(units, "r0.status.json"), JSON.stringify([{ name: "r0", role: "Primary", connections: [{ name: "n2", "peer-role": "Secondary" }] }]) + "\n");
});

async function ctl(args: string[], as: "storeventd" | "drbd-reactorctl" = "storeventd", stdin?: string, env: Record<string, string> = {}) {
  const argv = as === "storeventd" ? [BIN, "ctl", "-c", cfg, ...args] : [join(linkDir, "drbd-reactorctl"), "-c", cfg, ...args];
  const p = Bun.spawn(argv, {
    env: { ...process.env, PATH: `${join(import.meta.dir, "bin")}:${linkDir}:${process.env.PATH}`, CTL_LOG: log, CTL_UNITS: units, ...env },
    stdin: stdin !== undefined ? new Blob([stdin]) : "ignore", stdout: "pipe", stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}
const calls = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter((l) => !l.startsWith("show ")) : []);

describe("storeventd ctl", () => {
  test("ls lists enabled then disabled snippets with their plugins", async () => {
    const r = await ctl(["ls"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe([
      `${dir}/prometheus.toml:`, "- Prometheus: 127.0.0.1:9942",
      `${dir}/r0.toml:`, `- Promoter: r0; start = ["ocf:heartbeat:IPaddr2 vip cidr_netmask=24 ip=10.0.0.9", "app@r0.service"]`,
      `${dir}/umh.toml:`, "- UMH",
      `${dir}/dbg.toml.disabled:`, "- Debugger", "",
    ].join("\n"));
  });

  test("status --json has drbd-reactorctl's keys; text status draws the target tree; no verb is status", async () => {
    const r = await ctl(["status", "--json"]);
    expect(r.code).toBe(0);
    const st = JSON.parse(r.out);
    expect(st.promoter).toEqual([{
      drbd_resource: "r0", path: `${dir}/r0.toml`, enabled: true, primary_on: hostname(),
      target: { name: "drbd-services@r0.target", status: "active", freezer: "running" },
      dependencies: [
        { name: "drbd-promote@r0.service", status: "active", freezer: "running" },
        { name: "ocf.ra@vip_r0.service", status: "inactive", freezer: "running" },
        { name: "app@r0.service", status: "failed", freezer: "frozen" },
      ],
      status: "active",
    }]);
    expect(st.prometheus).toEqual([{ path: `${dir}/prometheus.toml`, enabled: true, address: "127.0.0.1:9942", status: "active" }]);
    expect(st.umh).toEqual([{ path: `${dir}/umh.toml`, enabled: true, status: "active" }]);
    expect(st.debugger).toEqual([{ path: `${dir}/dbg.toml.disabled`, enabled: false, status: "active" }]);
    expect(st.agentx).toEqual([]);
    const text = await ctl([]);
    expect(text.out).toContain(`${dir}/r0.toml:\nPromoter: Resource r0 currently active on this node\n● drbd-services@r0.target\n● ├─ drbd-promote@r0.service\n○ ├─ ocf.ra@vip_r0.service\n× └─ app@r0.service(frozen)\n`);
    expect(text.out).toContain(`${dir}/dbg.toml.disabled:\nDebugger (disabled): started\n`);
    expect((await ctl(["status", "-r", "nosuch", "--json"])).out).toStartWith('{"promoter":[],');
  });

  test("disable renames to .toml.disabled and reloads; --now stops the target; enable undoes it", async () => {
    const d = await ctl(["disable", "--now", "r0"]);
    expect([d.code, d.err]).toEqual([0, `Disabling '${dir}/r0.toml'...\n`]);
    expect(existsSync(join(dir, "r0.toml"))).toBe(false);
    expect(readFileSync(join(dir, "r0.toml.disabled"), "utf8")).toBe(R0);
    expect(calls()).toEqual(["is-active -q drbd-reactor-reload.path", "reload storeventd.service", "stop drbd-services@r0.target"]);
    expect((await ctl(["ls", "r0"])).out).toContain("- Promoter: r0 (disabled); start = [");
    rmSync(log);
    writeFileSync(join(units, "autoload"), ""); // drbd-reactor-reload.path active: no explicit reload
    const e = await ctl(["enable", "r0.toml.disabled"]);
    expect(e.code).toBe(0);
    expect(existsSync(join(dir, "r0.toml"))).toBe(true);
    expect(calls()).toEqual(["is-active -q drbd-reactor-reload.path"]);
    const again = await ctl(["enable", "r0"]);
    expect(again.err).toContain(`File '${dir}/r0.toml.disabled' does not exist or is not a regular file, ignoring`);
  });

  test("rm asks unless -f; --disabled picks .toml.disabled; files outside the directory are refused", async () => {
    const no = await ctl(["rm", "umh"], "storeventd", "n\n");
    expect(no.out).toContain(`Remove '${dir}/umh.toml'? [N/y]`);
    expect(existsSync(join(dir, "umh.toml"))).toBe(true);
    expect((await ctl(["rm", "umh"], "storeventd", "y\n")).code).toBe(0);
    expect(existsSync(join(dir, "umh.toml"))).toBe(false);
    expect((await ctl(["rm", "-f", "--disabled", "dbg"])).code).toBe(0);
    expect(existsSync(join(dir, "dbg.toml.disabled"))).toBe(false);
    // Two questions answered from one piped stdin.
    writeFileSync(join(dir, "a.toml"), "[[debugger]]\n");
    writeFileSync(join(dir, "b.toml"), "[[debugger]]\n");
    await ctl(["rm", "a", "b"], "storeventd", "y\ny\n");
    expect([existsSync(join(dir, "a.toml")), existsSync(join(dir, "b.toml"))]).toEqual([false, false]);
    const out = await ctl(["rm", "-f", "/etc/passwd"]);
    expect(out.err).toContain("File '/etc/passwd' does not have a recognized extension");
  });

  test("evict: mask --runtime, stop, wait for a peer to be Primary, unmask and start again (-k keeps the mask)", async () => {
    writeFileSync(join(units, "r0.status.json"), [
      [{ name: "r0", role: "Primary", connections: [{ name: "n2", "peer-role": "Secondary" }] }],
      [{ name: "r0", role: "Secondary", connections: [{ name: "n2", "peer-role": "Secondary" }] }],
      [{ name: "r0", role: "Secondary", connections: [{ name: "n2", "peer-role": "Primary" }] }],
    ].map((x) => JSON.stringify(x)).join("\n") + "\n");
    const r = await ctl(["evict", "-d", "5", "r0"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${dir}/r0.toml:\nEvicting r0\n5..\nNode 'n2' took over\nRe-enabling r0\nRemoved /run/systemd/system/drbd-services@r0.target.\n`);
    expect(calls()).toEqual(["mask --runtime drbd-services@r0.target", "daemon-reload", "stop drbd-services@r0.target", "daemon-reload", "start drbd-services@r0.target"]);
    rmSync(log);
    rmSync(join(units, "r0.status.json.n"));
    const k = await ctl(["evict", "-k", "-d", "1", "r0"]);
    expect(k.code).toBe(0);
    expect(calls()).toEqual(["mask --runtime drbd-services@r0.target", "daemon-reload", "stop drbd-services@r0.target"]);
    rmSync(log);
    expect((await ctl(["evict", "-u", "r0"])).out).toContain("Re-enabling r0");
    expect(calls()).toEqual(["daemon-reload", "start drbd-services@r0.target"]);
    expect((await ctl(["evict", "-d", "0", "r0"])).code).toBe(2);
  });

  test("start-until starts the promote service and the start list up to an entry", async () => {
    await ctl(["disable", "r0"]);
    rmSync(log);
    const r = await ctl(["start-until", "1", "r0"]);
    expect(r.code).toBe(0);
    expect(calls()).toEqual(["start drbd-promote@r0.service", "start ocf.ra@vip_r0.service"]);
    expect(r.out).toContain("- storeventd ctl enable " + `${dir}/r0.toml.disabled # on all cluster nodes`);
  });

  test("as drbd-reactorctl: same verbs, usage errors exit 1 (2 as storeventd ctl), --help on every verb", async () => {
    expect((await ctl(["ls"], "drbd-reactorctl")).out).toContain("- Promoter: r0; start = [");
    expect((await ctl(["frobnicate"], "drbd-reactorctl")).code).toBe(1);
    expect((await ctl(["frobnicate"])).code).toBe(2);
    for (const v of ["status", "ls", "cat", "edit", "enable", "disable", "evict", "restart", "rm", "start-until", "generate-completion"]) {
      const h = await ctl([v, "--help"], "drbd-reactorctl");
      expect(h.code).toBe(0);
      expect(h.out.split("\n")[0]).toMatch(new RegExp(`^Usage: drbd-reactorctl ${v}( |$)`));
    }
    const comp = await ctl(["generate-completion", "bash"], "drbd-reactorctl");
    expect(comp.out).toContain("complete -F _drbd_reactorctl_ctl drbd-reactorctl");
    const check = Bun.spawnSync(["bash", "-n"], { stdin: new Blob([comp.out]) });
    expect(check.exitCode).toBe(0);
  });

  test("a storeventd config: its snippets are conf.d/ beside it (as the daemon reads them) unless it names snippets", async () => {
    const sd = join(root, "storeventd");
    mkdirSync(join(sd, "conf.d"), { recursive: true });
    writeFileSync(join(sd, "storeventd.toml"), `[main]\nstate_dir = "/var/lib/storeventd"\n`);
    writeFileSync(join(sd, "conf.d/r0.toml"), R0);
    const run = (as: string[]) => Bun.spawn(as, { env: { ...process.env, PATH: `${join(import.meta.dir, "bin")}:${process.env.PATH}`, CTL_LOG: log, CTL_UNITS: units }, stdout: "pipe", stderr: "pipe" });
    const p = run([BIN, "ctl", "-c", join(sd, "storeventd.toml"), "ls"]);
    expect(await new Response(p.stdout).text()).toBe(`${sd}/conf.d/r0.toml:\n- Promoter: r0; start = ["ocf:heartbeat:IPaddr2 vip cidr_netmask=24 ip=10.0.0.9", "app@r0.service"]\n`);
    // drbd-reactorctl wants the key, as drbd-reactorctl does.
    const q = run([join(linkDir, "drbd-reactorctl"), "-c", join(sd, "storeventd.toml"), "ls"]);
    expect(await new Response(q.stderr).text()).toBe("Error: Could not get snippets path from config file\n");
    expect(await q.exited).toBe(1);
  });

  test("--context: a verb runs on every node of ~/.config/drbd-reactorctl/CONTEXT.toml (ssh for the others), --nodes picks some", async () => {
    const xdg = join(root, "xdg");
    mkdirSync(join(xdg, "drbd-reactorctl"), { recursive: true });
    writeFileSync(join(xdg, "drbd-reactorctl/cluster.toml"), `[nodes.alpha]\nhostname = "alpha.example"\n[nodes.me]\nhostname = "${hostname()}"\n[nodes.beta]\nuser = "admin"\n`);
    const env = { XDG_CONFIG_HOME: xdg };
    const lsOut = (await ctl(["ls"])).out;
    const r = await ctl(["--context", "cluster", "ls"], "storeventd", undefined, env);
    expect(r.code).toBe(0);
    const hosts = ["alpha.example", "beta", hostname()].sort();
    expect(r.out).toBe(`Checking ssh connection to all remote nodes: ✓\n${hosts.map((h) => `➞ ${h}:\n${lsOut}\n`).join("")}`);
    expect(calls().filter((l) => l.startsWith("ssh ")).sort()).toEqual([
      `ssh -qtt admin@beta -- drbd-reactorctl --local -c ${cfg} --context cluster ls`,
      `ssh -qtt root@alpha.example -- drbd-reactorctl --local -c ${cfg} --context cluster ls`,
      "ssh admin@beta true", "ssh root@alpha.example true",
    ]);
    rmSync(log);
    const one = await ctl(["--context", "cluster", "--nodes", "alpha", "ls"], "drbd-reactorctl", undefined, env);
    expect(one.out).toBe(`Checking ssh connection to all remote nodes: ✓\n➞ alpha.example:\n${lsOut}\n`);
    // An unreachable node stops it before anything runs anywhere.
    rmSync(log);
    const down = await ctl(["--context", "cluster", "disable", "r0"], "storeventd", undefined, { ...env, CTL_DOWN: "beta" });
    expect(down.code).toBe(1);
    expect(down.err).toContain("Error: Command 'ssh admin@beta true' failed");
    expect(existsSync(join(dir, "r0.toml"))).toBe(true);
    expect(calls().filter((l) => l.includes("--local"))).toEqual([]);
    // local (and a missing default.toml) means this node only.
    expect((await ctl(["--context", "local", "ls"], "storeventd", undefined, env)).out).toBe(lsOut);
    expect((await ctl(["ls"], "storeventd", undefined, env)).out).toBe(lsOut);
    expect((await ctl(["--context", "nosuch", "ls"], "storeventd", undefined, env)).err).toContain("Could not read config file");
  });

  test("edit: a bad snippet is reopened with the error until it validates, then saved and reloaded", async () => {
    // The "editor" writes a broken promoter first (a key storeventd does not know), then a good one.
    const ed = join(root, "editor.sh");
    writeFileSync(ed, `#!/bin/sh
n=$(cat "${root}/rounds" 2>/dev/null || echo 0); echo $((n + 1)) > "${root}/rounds"
grep '^#|' "$1" >> "${root}/headers"
if [ "$n" = 0 ]; then printf '[[promoter]]\\n[promoter.resources.r1]\\nstrat = ["a.service"]\\n' > "$1"
else printf '[[promoter]]\\n[promoter.resources.r1]\\nstart = ["a.service"]\\n' > "$1"; fi
`);
    Bun.spawnSync(["chmod", "+x", ed]);
    rmSync(join(root, "rounds"), { force: true });
    rmSync(join(root, "headers"), { force: true });
    const p = Bun.spawn([BIN, "ctl", "-c", cfg, "edit", "r1"], {
      env: { ...process.env, PATH: `${join(import.meta.dir, "bin")}:${process.env.PATH}`, CTL_LOG: log, CTL_UNITS: units, EDITOR: ed },
      stdin: "ignore", stdout: "pipe", stderr: "pipe",
    });
    expect(await p.exited).toBe(0);
    expect(readFileSync(join(root, "rounds"), "utf8").trim()).toBe("2");
    expect(readFileSync(join(root, "headers"), "utf8")).toMatch(/#\| Error: .*strat/);
    expect(readFileSync(join(dir, "r1.toml"), "utf8")).toBe('[[promoter]]\n[promoter.resources.r1]\nstart = ["a.service"]\n');
    expect(calls()).toContain("reload storeventd.service");
  });
});
