// Runs dist/storeventd for a fault scenario and measures it from outside: RSS, fds, children,
// status over the control socket.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { startDaemon } from "../helpers/bin.ts";

export type Daemon = Awaited<ReturnType<typeof startDaemon>>;

export const startRun = (cfg: string, env: Record<string, string> = {}) =>
  startDaemon(["run", "-c", cfg], (e) => /storeventd: started/.test(e), env);

/** Resident set size of a process in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

export const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** Direct children of pid (from /proc/<pid>/task/<tid>/children). */
export function children(pid: number): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {}
  }
  return out;
}

export interface InstanceStatus {
  name: string;
  kind: string;
  counters: Record<string, number>;
  queue?: { depth: number; max: number; dropped: number; sent: number; errors: number };
  extra?: Record<string, unknown>;
}

export async function status(sock: string, timeoutMs = 5000): Promise<{ instances: InstanceStatus[] } & Record<string, unknown>> {
  const r = await fetch("http://localhost/v1/status", { unix: sock, signal: AbortSignal.timeout(timeoutMs) } as RequestInit);
  if (!r.ok) throw new Error(`status: HTTP ${r.status}`);
  return r.json() as never;
}

export const instance = (st: { instances: InstanceStatus[] }, name: string) => {
  const i = st.instances.find((x) => x.name === name);
  if (!i) throw new Error(`no instance ${name} in status`);
  return i;
};

/** Samples f every everyMs until stop() is called; returns the samples. */
export function sampler<T>(f: () => T, everyMs = 100) {
  const xs: T[] = [];
  const t = setInterval(() => {
    try {
      xs.push(f());
    } catch {}
  }, everyMs);
  return { xs, stop: () => (clearInterval(t), xs) };
}

/** Shared with concurrent test runs: see helpers/sysctl.ts. */
export { withSysctls } from "../helpers/sysctl.ts";

/** SIGTERM, then SIGKILL if the process has not exited within boundMs (issue 13: stop must take
 * at most shutdown_timeout + 2 s). Returns the exit code, how long it took and whether it was killed. */
export async function stopDaemon(d: Daemon, boundMs: number): Promise<{ code: number | null; ms: number; killed: boolean }> {
  const t0 = performance.now();
  d.proc.kill("SIGTERM");
  const timer = new Promise<"late">((r) => setTimeout(() => r("late"), boundMs));
  const r = await Promise.race([d.proc.exited, timer]);
  if (r === "late") {
    d.proc.kill("SIGKILL");
    await d.proc.exited;
    return { code: null, ms: performance.now() - t0, killed: true };
  }
  return { code: r, ms: performance.now() - t0, killed: false };
}

/** The [main] table and a kmsg sender that accepts written (user-facility) records: where every
 * scenario that injects kernel lines through /dev/kmsg starts its config. */
export function kmsgDaemonHeader(dir: string, sock: string, opts: { noFold?: boolean } = {}): string {
  return `[main]\nstate_dir = "${dir}/state"\ncontrol_socket = "${sock}"\nshutdown_timeout = "2s"\n` +
    (opts.noFold ? `dedup_window = "0s"\n` : "") + `\n[kmsg]\ntype = "sender"\naccept_user_records = true\n`;
}

/** Both clock scenarios' config: a folding kmsg sender, the fs parser, and a store and a file
 * receiver that keep only the scenario's own device tag (others write to /dev/kmsg too). */
export function clockScenarioConfig(dir: string, sock: string, tag: string, windowMs: number): string {
  return `[main]
state_dir = "${dir}/state"
control_socket = "${sock}"
shutdown_timeout = "2s"
dedup_window = "${windowMs}ms"

[kmsg]
type = "sender"
accept_user_records = true
cursor_interval = "100ms"

[fs]
type = "parser"

[store]
type = "receiver"
flush_interval = "100ms"
filter = { dev_name = "${tag}" }

[file]
type = "receiver"
path = "${dir}/events.ndjson"
filter = { dev_name = "${tag}" }
`;
}

/** The events a file receiver has written so far (none before the file exists). */
export function ndjsonEvents(path: string): any[] {
  return existsSync(path) ? readFileSync(path, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
}
