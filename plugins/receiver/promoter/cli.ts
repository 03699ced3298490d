// `storeventd promoter ...`: a thin client of the daemon's control socket (http.ts).
import { existsSync, readFileSync } from "node:fs";
import { parse as parseToml } from "smol-toml";
import type { ResourceReport } from "./controller.ts";
import { DEFAULT_CONFIG_PATH } from "../../../src/plugin-kit/cli.ts";
import { parse, UsageError } from "../../../src/plugin-kit/cli.ts";

export const PROMOTER_HELP = `Usage: storeventd promoter [-c PATH] [--socket PATH] COMMAND

Talks to the running daemon's [[promoter]] (drbd-reactor's promoter) over its control socket.

Commands:
  status [RES] [--json]    where each resource runs, its state, the target and its units
  evict RES [--to NODE]    stop RES here and keep this node from promoting it for evict-hold
                           (or until NODE is Primary). With --to, run it on every node (e.g. via
                           ssh): the named node promotes without its sleep, the others hold back
  disable RES [--now]      never promote RES on this node; --now also stops its services here
                           (until the daemon restarts; "storeventd ctl disable" persists it)
  enable RES               undo disable
  maintenance RES on|off   take no action for RES at all while on; its services keep running

Options:
  -c, --config PATH   config file naming control_socket (default ${DEFAULT_CONFIG_PATH})
      --socket PATH   the control socket (default: [main] control_socket from the config,
                      else /run/storeventd/control.sock)
      --json          print JSON
  -h, --help          this help

Exit status: 0 ok, 1 the daemon refused or is unreachable, 2 usage error.`;

export interface PromoterIo {
  out(s: string): void;
  err(s: string): void;
  isTTY: boolean;
}

const DEFAULT_SOCKET = "/run/storeventd/control.sock";

function socketPath(socket: string | undefined, config: string | undefined): string {
  if (socket) return socket;
  const path = config ?? DEFAULT_CONFIG_PATH;
  if (existsSync(path)) {
    try {
      const doc = parseToml(readFileSync(path, "utf8")) as { main?: { control_socket?: unknown } };
      if (typeof doc.main?.control_socket === "string") return doc.main.control_socket;
    } catch {
      // `check` reports config errors; the default socket is still worth a try
    }
  }
  return DEFAULT_SOCKET;
}

interface Answer {
  ok?: boolean;
  message?: string;
  error?: string;
  detail?: string;
  resources?: ResourceReport[];
}

async function call(sock: string, method: string, path: string): Promise<{ status: number; body: Answer }> {
  const r = await fetch(`http://localhost${path}`, { method, unix: sock } as RequestInit);
  const text = await r.text();
  let body: Answer;
  try {
    body = JSON.parse(text) as Answer;
  } catch {
    body = { error: "http", detail: text.trim() || `HTTP ${r.status}` };
  }
  return { status: r.status, body };
}

export async function promoterCommand(argv: string[], io: PromoterIo): Promise<number> {
  let values: { config?: string; socket?: string; json?: boolean; to?: string; now?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv, {
      config: { type: "string", short: "c" }, socket: { type: "string" }, json: { type: "boolean" },
      to: { type: "string" }, now: { type: "boolean" },
    }, true));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`storeventd promoter: ${e.message}\n${PROMOTER_HELP}`);
    return 2;
  }
  if (values.help) return io.out(PROMOTER_HELP), 0;
  const [cmd = "status", res, arg, ...extra] = positionals;
  const usage = (msg: string) => (io.err(`storeventd promoter: ${msg}\n${PROMOTER_HELP}`), 2);
  const enc = (s: string) => encodeURIComponent(s);
  let method = "POST";
  let path: string;
  switch (cmd) {
    case "status":
      if (arg !== undefined) return usage("status takes at most one resource");
      method = "GET";
      path = res === undefined ? "/v1/promoter" : `/v1/promoter/${enc(res)}`;
      break;
    case "evict":
      if (!res || arg !== undefined) return usage("evict RES [--to NODE]");
      path = `/v1/promoter/${enc(res)}/evict${values.to ? `?to=${enc(values.to)}` : ""}`;
      break;
    case "disable":
      if (!res || arg !== undefined) return usage("disable RES [--now]");
      path = `/v1/promoter/${enc(res)}/disable${values.now ? "?now=1" : ""}`;
      break;
    case "enable":
      if (!res || arg !== undefined) return usage("enable RES");
      path = `/v1/promoter/${enc(res)}/enable`;
      break;
    case "maintenance":
      if (!res || (arg !== "on" && arg !== "off") || extra.length) return usage("maintenance RES on|off");
      path = `/v1/promoter/${enc(res)}/maintenance?on=${arg === "on" ? 1 : 0}`;
      break;
    default:
      return usage(`unknown command "${cmd}"`);
  }
  if ((values.to !== undefined && cmd !== "evict") || (values.now && cmd !== "disable")) {
    return usage(values.to !== undefined ? "--to is for evict" : "--now is for disable");
  }
  const sock = socketPath(values.socket, values.config);
  let answer: { status: number; body: Answer };
  try {
    answer = await call(sock, method, path);
  } catch (e) {
    io.err(`storeventd promoter: cannot reach the daemon at ${sock}: ${(e as Error).message}`);
    return 1;
  }
  const { status, body } = answer;
  if (values.json) io.out(JSON.stringify(body));
  if (status !== 200 || !body.ok) {
    if (!values.json) io.err(`storeventd promoter: ${body.detail ?? body.error ?? `HTTP ${status}`}`);
    return 1;
  }
  if (!values.json) io.out(cmd === "status" ? formatStatus(body.resources ?? [], io.isTTY) : body.message ?? "ok");
  return 0;
}

const MARK: Record<string, string> = { active: "●", activating: "●", deactivating: "●", reloading: "↻", failed: "×" };
const COLOR: Record<string, string> = { active: "\x1b[1;32m", failed: "\x1b[1;31m" };

function mark(state: string, tty: boolean): string {
  const active = state.split(" ")[0]!;
  const m = MARK[active] ?? "○";
  return tty && COLOR[active] ? `${COLOR[active]}${m}\x1b[0m` : m;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

/** drbd-reactorctl-like: one block per resource, the target and its units as a tree. */
export function formatStatus(list: readonly ResourceReport[], tty: boolean): string {
  if (!list.length) return "no resources";
  return list.map((r) => {
    const flags = [r.maintenance ? "maintenance" : "", r.disabled ? "disabled" : "", r.evict ? `evicted${r.evict.to ? ` to ${r.evict.to}` : ""}` : ""]
      .filter(Boolean);
    const lines = [
      `${r.resource} on ${r.node}: ${r.state}${flags.length ? ` [${flags.join(", ")}]` : ""}`,
      `  role ${r.role}, quorum ${r.quorum ? "yes" : "no"}, may_promote ${r.may_promote ? "yes" : "no"}, ` +
      `primary on ${r.primary_on === "local" ? "this node" : r.primary_on ?? "none"}, policy ${r.policy}, runner ${r.runner}`,
    ];
    if (r.next_start_at !== null) lines.push(`  starting in ${Math.max(0, r.next_start_at - Date.now())} ms`);
    if (r.last) {
      lines.push(`  last: ${r.last.action} (${r.last.reason}) ${r.last.ok ? "ok" : `failed: ${r.last.error}`}, ${ago(r.last.at)}`);
    }
    const [target, ...units] = r.units;
    if (target) {
      const w = Math.max(...r.units.map((u) => u.unit.length)) + 2;
      lines.push(`  ${mark(target.state, tty)} ${target.unit.padEnd(w + 2)}${target.state}`);
      units.forEach((u, i) => lines.push(`  ${i === units.length - 1 ? "└" : "├"} ${mark(u.state, tty)} ${u.unit.padEnd(w)}${u.state}`));
    }
    return lines.join("\n");
  }).join("\n\n");
}
