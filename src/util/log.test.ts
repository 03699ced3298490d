// RootLog: the default stderr log, and drbd-reactor's [[log]] loggers (format, levels, files, reopen).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RATE_WINDOW_MS, RootLog } from "./log.ts";

const dir = mkdtempSync(join(tmpdir(), "storeventd-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("RootLog", () => {
  test("without [[log]]: level-filtered `level: scope: message` lines on the sink", () => {
    const lines: string[] = [];
    const log = new RootLog({ write: (l) => void lines.push(l) });
    log.sdPrefix = false;
    log.configure(undefined, "info");
    log.child("umh[0]").debug("hidden");
    log.child("umh[0]").warn("shown", { pid: 7 });
    expect(lines).toEqual(['warn: umh[0]: shown {"pid":7}\n']);
  });

  test("[[log]] loggers replace the default: `LEVEL [target] message`, each its own level, stderr and files", async () => {
    const lines: string[] = [];
    const log = new RootLog({ write: (l) => void lines.push(l) });
    const a = join(dir, "a.log");
    const b = join(dir, "b.log");
    log.configure([{ level: "warn" }, { level: "debug", file: a }, { level: "error", file: b }], "info");
    expect(log.level).toBe("debug");
    log.child("promoter[0]").debug("probe");
    log.child("").info("started");
    log.child("umh[0]").error("failed");
    log.reopen(); // flushes the old stream at its end, appends to the same file
    log.child("umh[0]").warn("after reopen");
    await log.close();
    expect(lines).toEqual(["ERROR [umh[0]] failed\n", "WARN [umh[0]] after reopen\n"]);
    expect(readFileSync(a, "utf8")).toBe("DEBUG [promoter[0]] probe\nINFO [storeventd] started\nERROR [umh[0]] failed\nWARN [umh[0]] after reopen\n");
    expect(readFileSync(b, "utf8")).toBe("ERROR [umh[0]] failed\n");
  });

  test("reopen() after logrotate moved the file writes a new one; a forced level overrides every logger's", async () => {
    const log = new RootLog({ write: () => {} });
    const f = join(dir, "rot.log");
    log.configure([{ level: "info", file: f }], "info", "warn");
    log.child("x").info("filtered by the forced level");
    log.child("x").warn("one");
    await Bun.sleep(50);
    renameSync(f, `${f}.1`);
    log.reopen();
    log.child("x").warn("two");
    await log.close();
    expect(readFileSync(`${f}.1`, "utf8")).toBe("WARN [x] one\n");
    expect(existsSync(f)).toBe(true);
    expect(readFileSync(f, "utf8")).toBe("WARN [x] two\n");
  });
});

test("log.once is a per-key rate limit: one line a window, then the count of what was suppressed", () => {
  const lines: string[] = [];
  let now = 1000;
  const root = new RootLog({ write: (l) => void lines.push(l) }, () => now);
  root.sdPrefix = false;
  const log = root.child("store");
  log.once("write_failed", "cannot write /x: ENOSPC");
  for (let i = 0; i < 37; i++) log.once("write_failed", "cannot write /x: ENOSPC");
  log.once("other", "another kind is not suppressed by the first");
  expect(lines).toEqual(["warn: store: cannot write /x: ENOSPC\n", "warn: store: another kind is not suppressed by the first\n"]);
  now += RATE_WINDOW_MS - 1;
  log.once("write_failed", "still inside the window");
  expect(lines).toHaveLength(2);
  now += 1;
  log.once("write_failed", "cannot write /x: EIO");
  expect(lines[2]).toBe("warn: store: cannot write /x: EIO (38 similar messages suppressed in the last 60 s)\n");
  now += RATE_WINDOW_MS;
  log.once("write_failed", "a second failure a minute later is logged again");
  expect(lines[3]).toBe("warn: store: a second failure a minute later is logged again\n");
  // The same key in another scope (instance) has its own limit.
  root.child("store2").once("write_failed", "x");
  expect(lines).toHaveLength(5);
});
