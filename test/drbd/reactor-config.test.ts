// An existing drbd-reactor configuration (main file + drbd-reactor.d snippets with [[umh]],
// [[debugger]], [[prometheus]], [[promoter]]) passes `storeventd check` on the compiled binary,
// shell commands in umh rules included (they run as `sh -c`, as in drbd-reactor).
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin } from "../helpers/bin.ts";

const src = join(import.meta.dir, "reactor");
const dir = mkdtempSync(join(tmpdir(), "storeventd-reactor-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function layout(name: string, extra: string[] = []): string {
  const root = join(dir, name);
  const snippets = join(root, "drbd-reactor.d");
  mkdirSync(snippets, { recursive: true });
  writeFileSync(join(root, "drbd-reactor.toml"), readFileSync(join(src, "drbd-reactor.toml"), "utf8").replaceAll("@SNIPPETS@", snippets));
  copyFileSync(join(src, "drbd-reactor.d/umh-role.toml"), join(snippets, "umh-role.toml"));
  for (const f of extra) copyFileSync(join(src, f), join(snippets, f));
  return join(root, "drbd-reactor.toml");
}

describe("drbd-reactor configuration with storeventd check", () => {
  test("umh, debugger and prometheus load unchanged", async () => {
    const r = await runBin(["check", "-c", layout("ok")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("receivers: debugger[0] (debugger), prometheus[0] (prometheus), umh[0] (umh)");
    expect(r.stdout).toContain("drbd-reactor.d/umh-role.toml");
  });

  test("[[promoter]] loads unchanged", async () => {
    const r = await runBin(["check", "-c", layout("promoter", ["promoter.toml"])]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("promoter[0] (promoter)");
  });

  test("umh shell commands with $DRBD_* variables pass check", async () => {
    const r = await runBin(["check", "-c", layout("shell", ["shell-umh.toml"])]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("drbd-reactor.d/shell-umh.toml");
  });
});
