/** Polls `f` until it returns a value other than undefined/false (sync or async); throws
 * "timed out waiting for <what>" after timeoutMs. Returns that value. */
export async function waitFor<T>(
  f: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string, everyMs = 25,
): Promise<T> {
  // Monotonic: a wall-clock step (clock-step-real.test.ts steps CLOCK_REALTIME) must not cut a wait short.
  const until = performance.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}
