// drbd-reactor's [[log]] on the compiled daemon: two loggers (stderr at info, a file at debug)
// replace the default log, lines are `LEVEL [target] message`; SIGHUP after logrotate's rename
// reopens the file.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDaemon } from "../helpers/bin.ts";
import { waitFor } from "../helpers/wait.ts";

const dir = mkdtempSync(join(tmpdir(), "storeventd-reactor14-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("[[log]] loggers: stderr and a file, drbd-reactor's line format, reopened on SIGHUP", async () => {
  const file = join(dir, "reactor.log");
  const cfg = join(dir, "drbd-reactor.toml");
  writeFileSync(cfg, `
[[log]]
level = "info"
[[log]]
level = "debug"
file = "${file}"

[main]
state_dir = "${dir}/state"
control_socket = "${dir}/ctl.sock"
[sink]
type = "receiver"
plugin = "file"
path = "${dir}/events.ndjson"
`);
  const d = await startDaemon(["run", "-c", cfg], (s) => s.includes("] started "));
  try {
    const stderr = d.stderr().trim().split("\n");
    for (const l of stderr) expect(l).toMatch(/^(INFO|WARN|ERROR) \[\S+\] \S/);
    expect(stderr).toContainEqual(expect.stringMatching(/^INFO \[storeventd\] started /));
    await waitFor(() => existsSync(file) && readFileSync(file, "utf8").includes("] started "), 10_000, "the log file");
    const lines = readFileSync(file, "utf8").trim().split("\n");
    for (const l of lines) expect(l).toMatch(/^(DEBUG|INFO|WARN|ERROR) \[\S+\] \S/);
    renameSync(file, `${file}.1`);
    d.proc.kill("SIGHUP");
    await d.waitStderr((s) => s.includes("] reloaded: "));
    await waitFor(() => existsSync(file) && readFileSync(file, "utf8").includes("INFO [storeventd] reloaded: "), 10_000, "the new log file");
    expect(readFileSync(`${file}.1`, "utf8")).not.toContain("reloaded");
  } finally {
    d.proc.kill("SIGTERM");
    await d.proc.exited;
  }
});
