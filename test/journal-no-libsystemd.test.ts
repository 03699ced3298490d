// The addon opens libsystemd.so.0 only when a journal sender starts (not linked: every start would
// map it and its six libraries). On a host without it the daemon still starts with the addon:
// reader = "auto" follows the journal through journalctl and says why, reader = "sd-journal" fails
// at start with the reason (exit 1). A private mount namespace hides the real library behind an
// empty file, so the host is untouched.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "./helpers/bin.ts";

const dir = mkdtempSync(join(tmpdir(), "no-libsystemd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lib = realpathSync("/lib/x86_64-linux-gnu/libsystemd.so.0");

/** Runs the daemon for ~1.5 s in a mount namespace where libsystemd.so.0 is an empty file. */
async function runWithout(reader: string): Promise<{ code: number; stderr: string }> {
  const cfg = join(dir, `${reader}.toml`);
  writeFileSync(cfg, `[main]
state_dir = "${dir}/state-${reader}"
control_socket = "${dir}/${reader}.sock"
[journal]
type = "sender"
reader = "${reader}"
[stdout]
type = "receiver"
`);
  const p = Bun.spawn(["unshare", "-m", "sh", "-c", `mount --bind /dev/null ${lib} && exec timeout -s TERM 1.5 ${BIN} run -c ${cfg}`], { stdout: "ignore", stderr: "pipe" });
  const stderr = await new Response(p.stderr).text();
  return { code: await p.exited, stderr };
}

test('reader = "auto" without libsystemd.so.0: the addon loads, the journal is read through journalctl', async () => {
  const r = await runWithout("auto");
  expect(r.stderr).toContain("cannot load libsystemd.so.0");
  expect(r.stderr).toContain("(journalctl reader)");
  expect(r.stderr).not.toContain("native addon not loaded");
  expect(r.stderr).toContain("started");
}, 20_000);

test('reader = "sd-journal" without libsystemd.so.0: start fails with the reason, exit 1', async () => {
  const r = await runWithout("sd-journal");
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/\[journal\] cannot start: reader = "sd-journal": cannot load libsystemd\.so\.0/);
}, 20_000);
