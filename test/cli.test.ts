// The compiled binary's command line: help, exit codes, version, check, and the signals of run.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { BIN, runBin, startDaemon } from "./helpers/bin.ts";

const dir = mkdtempSync(join(tmpdir(), "storeventd-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("storeventd (compiled binary)", () => {
  test("the binary exists (npm test builds it first)", () => {
    expect(existsSync(BIN)).toBe(true);
  });

  test("--help lists every command; each command has --help", async () => {
    const top = await runBin(["--help"]);
    expect(top.code).toBe(0);
    const commands = [...top.stdout.matchAll(/^  ([a-z]+)  /gm)].map((m) => m[1]!);
    expect(commands).toEqual(expect.arrayContaining(["run", "check", "replay", "version"]));
    for (const c of commands) {
      const r = await runBin([c, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toStartWith(c === "run" ? "Usage: storeventd [run]" : `Usage: storeventd ${c}`);
    }
  });

  test("unknown commands and options are usage errors (exit 2)", async () => {
    const a = await runBin(["frobnicate"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('unknown command "frobnicate"');
    const b = await runBin(["check", "--frob"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("--frob");
    const c = await runBin(["replay", "--kmsg", "a", "--events2", "b"]);
    expect(c.code).toBe(2);
  });

  test("version prints version, commit, addon status and kernel", async () => {
    const r = await runBin(["version", "--json"]);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout);
    const pkg = JSON.parse(readFileSync(join(import.meta.dir, "../package.json"), "utf8"));
    expect(v.version).toBe(pkg.version);
    expect(v.compiled).toBe(true);
    expect(v.addon.loaded).toBe(true);
    expect(v.addon.features).toContain("line-reader");
    expect(v.kernel).toBe(readFileSync("/proc/sys/kernel/osrelease", "utf8").trim());
    const text = await runBin(["version"]);
    expect(text.stdout).toMatch(/^storeventd \d+\.\d+\.\d+ \(commit [0-9a-f]+\)\naddon: loaded/);
  });

  test("without the addon, version says so and run logs one warning and still runs on the fallbacks", async () => {
    const env = { STOREVENTD_NO_ADDON: "1" };
    const v = JSON.parse((await runBin(["version", "--json"], { env })).stdout);
    expect(v.addon).toEqual({ loaded: false, features: [], error: "disabled by STOREVENTD_NO_ADDON=1" });
    const cfg = join(dir, "fallback.toml");
    writeFileSync(cfg, `[main]\nstate_dir = "${dir}/fb"\n[out]\ntype = "receiver"\nplugin = "stdout"\nformat = "json"\n`);
    const d = await startDaemon(["run", "-c", cfg], (s) => s.includes("started"), env);
    expect(d.stderr().match(/native addon not loaded, running on TypeScript fallbacks/g)).toHaveLength(1);
    d.proc.kill("SIGTERM");
    expect(await d.proc.exited).toBe(0);
    expect(d.stdout()).toContain('"addon":false');
  });

  test("check exits 0 on a valid config and 2 on an invalid one, naming file:line and key", async () => {
    const good = join(dir, "good.toml");
    writeFileSync(good, `[main]\nhostname = "n1"\n[out]\ntype = "receiver"\nplugin = "stdout"\n`);
    const ok = await runBin(["check", "-c", good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("OK");
    const bad = join(dir, "bad.toml");
    writeFileSync(bad, `[main]\nhostname = "n1"\n[out]\ntype = "receiver"\nplugin = "stdout"\nformat = "xml"\n`);
    const no = await runBin(["check", "-c", bad]);
    expect(no.code).toBe(2);
    expect(no.stderr.trim()).toBe(`[out] format: expected one of line|json, got "xml" (${bad}:6)`);
    const missing = await runBin(["check", "-c", join(dir, "missing.toml")]);
    expect(missing.code).toBe(2);
  });

  test("run: SIGHUP with a good config reloads, with a bad one keeps running; SIGTERM drains and exits 0", async () => {
    const cfg = join(dir, "run.toml");
    const out = join(dir, "events.ndjson");
    const base = `[main]\nhostname = "n1"\nstate_dir = "${dir}/state"\n[log]\ntype = "receiver"\nplugin = "file"\npath = "${out}"\nfsync = "always"\n`;
    writeFileSync(cfg, base);
    const d = await startDaemon(["run", "-c", cfg], (s) => s.includes("started"));
    writeFileSync(cfg, base + `[console]\ntype = "receiver"\nplugin = "stdout"\nformat = "json"\n`);
    d.proc.kill("SIGHUP");
    await d.waitStderr((s) => s.includes("reloaded"));
    expect(d.stderr()).toMatch(/started \[console\] stopped \[\] kept \[log(, \w+)*\]/); // log + implicit parsers
    writeFileSync(cfg, base + `[console]\ntype = "receiver"\nplugin = "nonesuch"\n`);
    d.proc.kill("SIGHUP");
    await d.waitStderr((s) => s.includes("reload failed"));
    expect(d.stderr()).toContain('unknown receiver plugin "nonesuch"');
    expect(d.proc.exitCode).toBeNull(); // still running on the old config
    d.proc.kill("SIGTERM");
    expect(await d.proc.exited).toBe(0);
    const events = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(events.map((e) => e.event_type)).toEqual(["DAEMON_STARTED", "DAEMON_RELOADED", "DAEMON_STOPPING"]); // the failed reload emits nothing
    expect(events[0].hostname).toBe("n1");
    // The console receiver added by the first reload got the stop event as JSON on stdout.
    expect(d.stdout()).toContain('"event_type":"DAEMON_STOPPING"');
  });

  test("run with an invalid config exits 2 before starting anything", async () => {
    const cfg = join(dir, "invalid.toml");
    writeFileSync(cfg, `[main]\nbogus = 1\n`);
    const r = await runBin(["run", "-c", cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[main] bogus: unknown key "bogus"');
  });

  test("run that fails to start for a reason other than its config exits 1 (the listen port is taken), and does not linger", async () => {
    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    try {
      const cfg = join(dir, "port-taken.toml");
      writeFileSync(cfg, `[main]\nstate_dir = "${dir}/pt-state"\ncontrol_socket = "${dir}/pt.sock"\nlisten = "127.0.0.1:${taken.port}"\n` +
        `[kmsg]\ntype = "sender"\nfrom = "end"\n[out]\ntype = "receiver"\nplugin = "stdout"\n`);
      const t0 = performance.now();
      const r = await runBin(["run", "-c", cfg], { timeoutMs: 15_000 });
      expect(r.stderr).toContain("cannot start");
      expect(r.code).toBe(1);
      expect(performance.now() - t0).toBeLessThan(10_000);
    } finally {
      taken.stop(true);
    }
  });

  test("run whose plugin rejects its options at create() exits 2 (a config error)", async () => {
    const cfg = join(dir, "bad-device.toml");
    writeFileSync(cfg, `[main]\nstate_dir = "${dir}/bd-state"\ncontrol_socket = "${dir}/bd.sock"\n[kernel]\ntype = "sender"\nplugin = "kmsg"\npath = "${dir}/no-such-kmsg"\n`);
    const r = await runBin(["run", "-c", cfg], { timeoutMs: 15_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("[kernel]");
  });
});
