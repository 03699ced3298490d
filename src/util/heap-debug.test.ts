import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installHeapDebug } from "./heap-debug.ts";

test("installHeapDebug() does nothing without STOREVENTD_HEAP_STATS", () => {
  const before = process.listenerCount("SIGUSR2");
  const off = installHeapDebug({});
  expect(process.listenerCount("SIGUSR2")).toBe(before);
  off();
});

test("installHeapDebug(): SIGUSR2 writes object counts per type to <prefix>.<n>.json; the uninstaller removes the hook", async () => {
  const dir = mkdtempSync(join(tmpdir(), "heap-debug-"));
  try {
    const before = process.listenerCount("SIGUSR2");
    const off = installHeapDebug({ STOREVENTD_HEAP_STATS: join(dir, "h") });
    expect(process.listenerCount("SIGUSR2")).toBe(before + 1);
    process.kill(process.pid, "SIGUSR2");
    const file = join(dir, "h.0.json");
    for (let i = 0; i < 200 && !existsSync(file); i++) await Bun.sleep(10);
    await Bun.sleep(50);
    const s = JSON.parse(readFileSync(file, "utf8"));
    expect(s.objectTypeCounts.Function).toBeGreaterThan(100);
    expect(s.heapSize).toBeGreaterThan(0);
    expect(s.rss).toBeGreaterThan(0);
    off();
    expect(process.listenerCount("SIGUSR2")).toBe(before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
