// What drbd-reactorctl asks of the host: systemctl (inheriting the terminal, as it does), unit
// properties, the reload of the daemon (unless drbd-reactor-reload.path watches the snippets), the
// unit names of a promoter's resource, and where a resource is Primary (`drbdsetup status --json`).
import { hostname } from "node:os";
import { escapeName, parseStartEntry, promoteService, servicesTarget } from "../systemd/ocf.ts";

export const RELOAD_PATH = "drbd-reactor-reload.path";
/** The unit `restart` and the reload act on: storeventd's (STOREVENTD_CTL_SERVICE overrides it). */
export const SERVICE = process.env.STOREVENTD_CTL_SERVICE ?? "storeventd.service";

export interface Ran {
  code: number;
  out: string;
  err: string;
}

export function run(argv: string[], inherit = false): Ran {
  try {
    const p = Bun.spawnSync(argv, { stdin: "ignore", stdout: inherit ? "inherit" : "pipe", stderr: inherit ? "inherit" : "pipe" });
    return { code: p.exitCode ?? 1, out: p.stdout?.toString() ?? "", err: p.stderr?.toString() ?? "" };
  } catch (e) {
    return { code: 127, out: "", err: (e as Error).message };
  }
}

/** systemctl with the terminal's stdout/stderr; throws on failure like drbd-reactorctl. */
export function systemctl(...args: string[]): void {
  const r = run(["systemctl", ...args], true);
  if (r.code === 127) throw new Error(`Could not execute 'systemctl': ${r.err}`);
  if (r.code !== 0) throw new Error(`'systemctl ${args.join(" ")}' exited with ${r.code}`);
}

export function hasAutoload(): boolean {
  return run(["systemctl", "is-active", "-q", RELOAD_PATH]).code === 0;
}

/** After snippets changed: `systemctl reload` of the daemon, unless the path unit does it. */
export function reloadDaemon(): void {
  if (!hasAutoload()) systemctl("reload", SERVICE);
}

export function showProperty(unit: string, prop: string): string | undefined {
  const r = run(["systemctl", "show", `--property=${prop}`, unit]);
  const line = r.out.split("\n")[0] ?? "";
  return line.startsWith(`${prop}=`) ? line.slice(prop.length + 1).trim() : undefined;
}

export interface Unit {
  name: string;
  status: string;
  freezer: string;
}

export function unit(name: string): Unit {
  return { name, status: showProperty(name, "ActiveState") ?? "inactive", freezer: showProperty(name, "FreezerState") || "unknown" };
}

export { promoteService, servicesTarget };

/** The unit a start entry stands for (an `ocf:` entry's ocf.ra@ instance). */
export function serviceName(entry: string, res: string): string {
  const e = parseStartEntry(res, entry);
  if ("error" in e) throw new Error(e.error);
  return e.unit;
}

export const escape = escapeName;

/** drbd-reactor's PrimaryOn: this node (its name), a peer's connection name, or none. */
export type PrimaryOn = { local: string } | { remote: string } | null;

export function primaryOn(res: string): PrimaryOn {
  const r = run(["drbdsetup", "status", "--json", res]);
  if (r.code !== 0) throw new Error(`'drbdsetup status --json ${res}' not executed successfully, stdout: '${r.out}', stderr: '${r.err}'`);
  const list = JSON.parse(r.out) as { role: string; connections?: { name: string; "peer-role": string }[] }[];
  if (list.length !== 1) throw new Error("resources length from drbdsetup status not exactly 1");
  if (list[0]!.role === "Primary") return { local: hostname() };
  const peer = list[0]!.connections?.find((c) => c["peer-role"] === "Primary");
  return peer ? { remote: peer.name } : null;
}

export function primaryString(p: PrimaryOn): string {
  return p === null ? "unknown" : "local" in p ? p.local : p.remote;
}
