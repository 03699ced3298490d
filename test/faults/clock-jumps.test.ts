// Scenario 8: wall-clock steps. The daemon runs under libfaketime (LD_PRELOAD, the injectable
// clock: CLOCK_REALTIME only, CLOCK_MONOTONIC untouched - what a real step does), and its
// realtime is stepped back one hour, then forward one day, while kernel records keep coming.
// The real clock_settime step is clock-step-real.test.ts.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../helpers/wait.ts";
import { clockScenarioConfig, ndjsonEvents, section, startRun, stopDaemon, withSysctls } from "./index.ts";

const LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
const dir = mkdtempSync(join(tmpdir(), "faults20-clock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tag = `f20clk${process.pid}x${Math.random().toString(36).slice(2, 6)}`;
const sock = join(dir, "control.sock");
const offsetFile = join(dir, "faketime");
const WINDOW_MS = 2000;

const rep = section({
  n: 8, title: "Clock jumps",
  injects: "the daemon's CLOCK_REALTIME (libfaketime, monotonic untouched) stepped -1 h, then +1 d, then back; at each step three identical kernel records (and one more after the fold window)",
  holds: [
    "the first of the identical records goes out within 1 s (nothing waits on the wall clock)",
    `the fold window (dedup_window ${WINDOW_MS} ms) closes on time: the follow-up with repeat = 2 arrives within window + 1.5 s`,
    "event times follow the stepped clock the daemon sees (kernel timestamp + current REALTIME - MONOTONIC): within 2 s of that clock's now",
    "timers keep running: the store's flush (100 ms) puts the event in the store within 1.5 s; the kmsg cursor file is rewritten within 1.5 s",
  ],
});
rep.note("The real clock_settime step of the machine's clock is the next section (clock-step-real.test.ts).");

const OFFSETS: [string, number][] = [["-1h", -3600], ["+1d", 86400], ["+0", 0]];

test("clock steps -1 h and +1 d: no stalled timer or fold window, event times follow the clock", async () => {
  await rep.run(async () => {
    if (!existsSync(LIB)) throw new Error(`${LIB} missing: apt-get install faketime (.ci/apt-packages.txt)`);
    writeFileSync(offsetFile, "+0\n");
    writeFileSync(join(dir, "c.toml"), clockScenarioConfig(dir, sock, tag, WINDOW_MS));
    const d = await startRun(join(dir, "c.toml"), {
      LD_PRELOAD: LIB, FAKETIME_TIMESTAMP_FILE: offsetFile, FAKETIME_NO_CACHE: "1", FAKETIME_DONT_FAKE_MONOTONIC: "1",
    });
    const events = () => ndjsonEvents(join(dir, "events.ndjson"));
    const cursorFile = join(dir, "state/kmsg.cursor");
    try {
      await withSysctls({ "kernel.printk_devkmsg": "on" }, async () => {
        for (const [step, secs] of OFFSETS) {
          writeFileSync(offsetFile, `${step}\n`);
          await Bun.sleep(300);
          const text = `EXT4-fs error (device ${tag}): ext4_lookup:1855: inode #${secs}: comm clock: step ${step}`;
          const cursorBefore = existsSync(cursorFile) ? statSync(cursorFile).mtimeMs : 0;
          const t0 = performance.now();
          for (let i = 0; i < 3; i++) writeFileSync("/dev/kmsg", text + "\n");
          const first = await waitFor(() => events().find((e) => e.raw.includes(`step ${step}`) && !e.extension?.repeat), 5000, `the first event after step ${step}`, 10);
          const firstMs = performance.now() - t0;
          const expected = Date.now() + secs * 1000;
          const skew = Date.parse(first.time) - expected;
          const inStore = await waitFor(async () => {
            const r = await fetch(`http://localhost/v1/events?dev=${tag}&limit=100`, { unix: sock } as RequestInit).then((x) => x.text());
            return r.includes(`step ${step}`);
          }, 5000, "the event in the store", 25).then(() => performance.now() - t0).catch(() => Infinity);
          const cursorMs = await waitFor(() => existsSync(cursorFile) && statSync(cursorFile).mtimeMs > cursorBefore, 5000, "a cursor write", 10).then(() => performance.now() - t0).catch(() => Infinity);
          const follow = await waitFor(() => events().find((e) => e.raw.includes(`step ${step}`) && e.extension?.repeat), WINDOW_MS + 5000, `the follow-up after step ${step}`, 20).catch(() => undefined);
          const followMs = performance.now() - t0;
          Object.assign(rep.figures, {
            [`${step}: first event ms`]: firstMs.toFixed(0),
            [`${step}: event time - stepped clock s`]: (skew / 1000).toFixed(2),
            [`${step}: follow-up ms (repeat)`]: follow ? `${followMs.toFixed(0)} (${follow.extension.repeat})` : "none",
            [`${step}: in store ms`]: inStore.toFixed(0), [`${step}: cursor written ms`]: cursorMs.toFixed(0),
          });
          expect(firstMs).toBeLessThan(1000);
          expect(Math.abs(skew)).toBeLessThan(2000);
          expect(follow?.extension?.repeat).toBe(2);
          expect(followMs).toBeLessThan(WINDOW_MS + 1500);
          expect(inStore).toBeLessThan(1500);
          expect(cursorMs).toBeLessThan(1500);
        }
      });
    } finally {
      await stopDaemon(d, 5000);
    }
  });
}, 90_000);
