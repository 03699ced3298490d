// Scenario 8, the real step: CLOCK_REALTIME of the whole machine set back one hour, then forward
// one day, with clock_settime (GNU `date -s`), while kernel records keep coming. Each step lasts
// a few seconds and is undone in a finally block; the restore target is the wall time before the
// step plus the CLOCK_MONOTONIC time elapsed since, so the clock ends where it would have been.
// The test runner runs test files one at a time, so in CI nothing else runs during the steps.
// Every wait here is on the monotonic clock (performance.now, timers), never on Date.now().
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setRealtimeMs } from "../helpers/realtime.ts";
import { clockScenarioConfig, ndjsonEvents, section, startRun, stopDaemon, withSysctls } from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "faults20b-realclock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tag = `f20rclk${process.pid}x${Math.random().toString(36).slice(2, 6)}`;
const sock = join(dir, "control.sock");
const WINDOW_MS = 2000;
const STEPS: [string, number][] = [["-1h", -3600], ["+1d", 86400]];

const rep = section({
  n: 8, title: "Clock jumps, real clock_settime",
  injects: "the machine's CLOCK_REALTIME stepped -1 h, then +1 d with clock_settime (date -s), a few seconds each and restored from CLOCK_MONOTONIC; at each step three identical kernel records",
  holds: [
    "the first of the identical records goes out within 1 s",
    `the fold window (dedup_window ${WINDOW_MS} ms) closes on time: the follow-up with repeat = 2 within window + 1.5 s`,
    "event times follow the kernel's (record timestamp + REALTIME - MONOTONIC): within 2 s of the stepped clock's now",
    "timers keep running: the store has the event and the kmsg cursor file is rewritten within 1.5 s",
    "after the restore the clock is within 100 ms of where it would have been, and an event after it has the right time",
  ],
});

/** Polls on the monotonic clock; undefined after timeoutMs. */
async function within<T>(f: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number): Promise<T | undefined> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > until) return undefined;
    await Bun.sleep(10);
  }
}

test("real clock_settime: -1 h and +1 d, restored from the monotonic clock", async () => {
  await rep.run(async () => {
    writeFileSync(join(dir, "c.toml"), clockScenarioConfig(dir, sock, tag, WINDOW_MS));
    const d = await startRun(join(dir, "c.toml"));
    const events = () => ndjsonEvents(join(dir, "events.ndjson"));
    const cursorFile = join(dir, "state/kmsg.cursor");
    const results: { step: string; firstMs: number; skewMs: number; repeat: unknown; followMs: number; storeMs: number; cursorMs: number }[] = [];
    let restoreErrorMs = NaN;
    try {
      await withSysctls({ "kernel.printk_devkmsg": "on" }, async () => {
        for (const [step, secs] of [...STEPS, ["after the restore", 0] as [string, number]]) {
          const wall0 = Date.now();
          const mono0 = performance.now();
          try {
            if (secs) setRealtimeMs(wall0 + secs * 1000);
            const text = `EXT4-fs error (device ${tag}): ext4_lookup:1855: inode #${secs}: comm clock: real step ${step}`;
            const cursorBefore = existsSync(cursorFile) ? statSync(cursorFile).mtimeMs : 0;
            const t0 = performance.now();
            const expected = Date.now(); // the stepped clock, as the kernel's REALTIME - MONOTONIC now says
            for (let i = 0; i < 3; i++) writeFileSync("/dev/kmsg", text + "\n");
            const mine = (e: { raw: string }) => e.raw.includes(`real step ${step}`);
            const first = await within(() => events().find((e) => mine(e) && !e.extension?.repeat), 5000);
            const firstMs = performance.now() - t0;
            const storeMs = await within(async () => (await fetch(`http://localhost/v1/events?dev=${tag}&limit=100`, { unix: sock } as RequestInit).then((x) => x.text())).includes(`real step ${step}`), 5000).then((ok) => ok ? performance.now() - t0 : Infinity);
            const cursorMs = await within(() => existsSync(cursorFile) && statSync(cursorFile).mtimeMs !== cursorBefore, 5000).then((ok) => ok ? performance.now() - t0 : Infinity);
            const follow = await within(() => events().find((e) => mine(e) && e.extension?.repeat), WINDOW_MS + 5000);
            const followMs = performance.now() - t0;
            results.push({ step, firstMs, skewMs: first ? Date.parse(first.time) - expected : NaN, repeat: follow?.extension?.repeat, followMs, storeMs, cursorMs });
          } finally {
            // where the clock would be had it never been stepped
            if (secs) setRealtimeMs(wall0 + (performance.now() - mono0));
          }
          if (secs) {
            // (a check after the fact: how far the restored clock is from the monotonic reckoning)
            restoreErrorMs = Date.now() - (wall0 + (performance.now() - mono0));
          }
        }
      });
    } finally {
      await stopDaemon(d, 5000);
    }
    for (const r of results) {
      Object.assign(rep.figures, {
        [`${r.step}: first event ms`]: r.firstMs.toFixed(0),
        [`${r.step}: event time - clock s`]: (r.skewMs / 1000).toFixed(2),
        [`${r.step}: follow-up ms (repeat)`]: `${r.followMs.toFixed(0)} (${r.repeat ?? "none"})`,
        [`${r.step}: in store ms`]: r.storeMs.toFixed(0), [`${r.step}: cursor written ms`]: r.cursorMs.toFixed(0),
      });
    }
    rep.figures["clock after the last restore - monotonic reckoning ms"] = restoreErrorMs.toFixed(1);
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r.firstMs).toBeLessThan(1000);
      expect(Math.abs(r.skewMs)).toBeLessThan(2000);
      expect(r.repeat).toBe(2);
      expect(r.followMs).toBeLessThan(WINDOW_MS + 1500);
      expect(r.storeMs).toBeLessThan(1500);
      expect(r.cursorMs).toBeLessThan(1500);
    }
    expect(Math.abs(restoreErrorMs)).toBeLessThan(100);
  });
}, 90_000);
