// The compiled binary extracts its addon into BUN_TMPDIR (else TMPDIR) and dlopens it from there.
// On a noexec mount that fails: the binary must keep working on the TypeScript fallback and say
// why, naming BUN_TMPDIR, once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, ok, sh } from "./helpers.ts";
import { listenNotify } from "../../src/systemd/testdata/notify-listener.ts";

let noexec = "";
let exec = "";
let mounted = false;
beforeAll(() => {
  noexec = mkdtempSync("/tmp/storeventd-noexec-");
  ok(["mount", "-t", "tmpfs", "-o", "noexec,nosuid,nodev,size=64m", "tmpfs", noexec]);
  mounted = true;
  exec = mkdtempSync("/var/tmp/storeventd-exec-");
});
afterAll(() => {
  if (mounted) sh(["umount", noexec]);
  for (const d of [noexec, exec]) if (d) rmSync(d, { recursive: true, force: true });
});

// The environment of the binary: only TMPDIR on the noexec mount, BUN_TMPDIR as given.
function envWith(bunTmp?: string): Record<string, string | undefined> {
  return { TMPDIR: noexec, BUN_TMPDIR: bunTmp, STOREVENTD_NO_ADDON: undefined, NOTIFY_SOCKET: undefined };
}

describe("TMPDIR on a noexec mount", () => {
  test("version: the addon falls back and the reason names BUN_TMPDIR", () => {
    expect(ok(["findmnt", "-no", "OPTIONS", noexec])).toContain("noexec");
    const r = sh([BIN, "version"], { env: envWith(undefined) });
    expect(r.code).toBe(0);
    expect(r.out).toContain("addon: not loaded, TypeScript fallbacks in use");
    expect(r.out).toContain("failed to map segment"); // dlopen's error on noexec
    expect(r.out).toContain("BUN_TMPDIR");
  });

  test("version: with BUN_TMPDIR on an exec-capable directory the addon loads", () => {
    const r = sh([BIN, "version"], { env: envWith(exec) });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^addon: loaded \(.*unix-dgram.*\)$/m);
  });

  test("run: on the fallback it logs one warning naming BUN_TMPDIR and still notifies READY=1", async () => {
    const dir = mkdtempSync(join(exec, "run-"));
    const cfg = join(dir, "storeventd.toml");
    writeFileSync(cfg, `[main]\nstate_dir = "${dir}/state"\ncontrol_socket = "${dir}/control.sock"\n\n[out]\ntype = "receiver"\nplugin = "stdout"\n`);
    const sock = join(dir, "notify.sock");
    const listener = await listenNotify(sock, 10, 20);
    const daemon = Bun.spawn([BIN, "run", "-c", cfg], {
      env: { ...process.env, ...envWith(undefined), NOTIFY_SOCKET: sock } as Record<string, string>,
      stdout: "pipe",
      stderr: "pipe",
    });
    const stderrText = new Response(daemon.stderr).text();
    try {
      // sent by systemd-notify on the daemon's behalf: the addon is not there to send it
      const ready = await Promise.race([
        listener.waitFor((d) => d.data.split("\n").includes("READY=1"), 15_000),
        daemon.exited.then(async (c) => {
          throw new Error(`daemon exited ${c} before READY=1: ${await stderrText}`);
        }),
      ]);
      expect(ready.pid).toBe(daemon.pid);
    } finally {
      daemon.kill("SIGTERM");
      listener.kill();
    }
    expect(await daemon.exited).toBe(0);
    const stderr = await stderrText;
    const warnings = stderr.split("\n").filter((l) => l.includes("BUN_TMPDIR"));
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/warn/i);
  }, 30_000);
});
