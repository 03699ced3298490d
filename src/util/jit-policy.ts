// The compiled binary starts with JavaScriptCore's JIT tier-up thresholds scaled up (build.ts,
// --compile-jit-policy): start-up code runs once, and compiling it costs time and resident memory
// before READY. Long-running work (the daemon after READY, replay's loop, a monitor) wants the
// normal policy, and asks for it here.

let normal = false;

/** Back to JavaScriptCore's normal JIT policy (idempotent; a no-op on a runtime without the knob). */
export function normalJitPolicy(): void {
  if (normal) return;
  normal = true;
  (Bun as { unsafe?: { setJITPolicy?(scale: number): void } }).unsafe?.setJITPolicy?.(1);
}
