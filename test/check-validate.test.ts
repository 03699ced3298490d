// `check` reports what only a plugin's validate() can see (option pairs, unreadable files,
// missing programs, unknown interfaces) with instance, file and line, without connecting anywhere.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { runBin } from "./helpers/bin.ts";

const dir = mkdtempSync(join(tmpdir(), "storeventd-validate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("check: cross-option errors of receivers name instance, file and line", async () => {
  const cfg = join(dir, "storeventd.toml");
  writeFileSync(cfg, [
    `[mail]\ntype = "receiver"\nplugin = "email"\nserver = "127.0.0.1:25"\nfrom = "a@b.c"\nto = ["d@e.f"]\nusername = "u"\n`,
    `[run]\ntype = "receiver"\nplugin = "exec"\ncommand = ["/nonexistent/notify-admin"]\n`,
    `[bus]\ntype = "receiver"\nplugin = "nats"\nservers = ["nats://127.0.0.1:4222"]\ntoken = "t"\ntoken_file = "${dir}/t"\n`,
    `[chat]\ntype = "receiver"\nplugin = "irc"\nserver = "127.0.0.1:6667"\nnick = "storeventd"\nchannel = "#storage"\nreconnect_min = "1m"\nreconnect_max = "1s"\n`,
    `[mc]\ntype = "receiver"\nplugin = "multicast"\ngroup = "239.0.0.77:6699"\ninterface = "nosuchif0"\n`,
  ].join("\n"));
  const r = await runBin(["check", "-c", cfg]);
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split("\n");
  expect(lines).toContain(`[mail]: username and password (or password_file) go together: give both or neither (${cfg}:1)`);
  expect(lines).toContain(`[run]: command: /nonexistent/notify-admin is not an executable file (${cfg}:9)`);
  expect(lines).toContain(`[bus]: token and token_file: give one (${cfg}:14)`);
  expect(lines).toContain(`[chat]: reconnect_min is longer than reconnect_max (${cfg}:21)`);
  expect(lines.find((l) => l.startsWith("[mc]: interface:"))).toEndWith(`(${cfg}:30)`);
  expect(lines).toHaveLength(5);
  // A required key that is missing is named as missing, not as unknown.
  writeFileSync(cfg, `[chat]\ntype = "receiver"\nplugin = "irc"\nserver = "127.0.0.1:6667"\nchannel = "#storage"\n`);
  const m = await runBin(["check", "-c", cfg]);
  expect(m.stderr.trim()).toBe(`[chat] nick: missing (required) (${cfg}:1)`);
});
