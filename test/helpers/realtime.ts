// Steps the machine's CLOCK_REALTIME (clock_settime through GNU date), for the tests that check what
// follows a real wall-clock step. Root only; callers restore the clock from the monotonic one.

/** Sets CLOCK_REALTIME to `ms` since the epoch. */
export function setRealtimeMs(ms: number): void {
  const r = Bun.spawnSync(["date", "-u", "-s", `@${(ms / 1000).toFixed(6)}`], { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`date -s failed: ${r.stderr.toString().trim()}`);
}
