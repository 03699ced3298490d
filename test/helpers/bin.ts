// Runs the compiled binary (dist/storeventd) the way a user would.
import { join } from "node:path";

export const BIN = process.env.STOREVENTD_BIN ?? join(import.meta.dir, "../../dist/storeventd");

export async function runBin(args: string[], opts: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {}) {
  const proc = Bun.spawn([BIN, ...args], {
    env: { ...process.env, ...opts.env },
    stdin: opts.stdin !== undefined ? new Blob([opts.stdin]) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Starts a long-running command and collects its output; waits until `ready(stderr)`. */
export async function startDaemon(args: string[], ready: (stderr: string) => boolean, env: Record<string, string> = {}) {
  const proc = Bun.spawn([BIN, ...args], { env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let out = "";
  let err = "";
  const pump = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
    const dec = new TextDecoder();
    for await (const chunk of s) add(dec.decode(chunk, { stream: true }));
  };
  void pump(proc.stdout, (t) => (out += t));
  void pump(proc.stderr, (t) => (err += t));
  const waitStderr = async (pred: (s: string) => boolean, timeoutMs = 15_000) => {
    const until = performance.now() + timeoutMs; // monotonic: immune to wall-clock steps
    while (!pred(err)) {
      if (performance.now() > until) throw new Error(`timed out; stderr so far:\n${err}`);
      if (proc.exitCode !== null) throw new Error(`exited ${proc.exitCode}; stderr:\n${err}`);
      await Bun.sleep(20);
    }
  };
  await waitStderr(ready);
  return { proc, stdout: () => out, stderr: () => err, waitStderr };
}

/** Runs `storeventd replay ARGS` with its events to /dev/null; its one-line summary, parsed
 * (`summary` false when stderr has none). */
export async function replaySummary(args: string[]) {
  const p = Bun.spawn([BIN, "replay", ...args], { stdout: Bun.file("/dev/null"), stderr: "pipe" });
  const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  const m = /^replay: (\d+) records, (\d+) events.* peak RSS (\d+) MiB$/m.exec(stderr);
  return { code, stderr, summary: m !== null, records: Number(m?.[1]), events: Number(m?.[2]), peakMib: Number(m?.[3]) };
}
