// `ctl status` and `ctl ls`: drbd-reactorctl's output, text and JSON (`--json` has its key names:
// promoter/prometheus/debugger/umh/agentx arrays; a promoter's drbd_resource, path, enabled,
// primary_on, target and dependencies as {name, status, freezer}, status).
import { connect } from "node:net";
import type { PromoterSnippet } from "../promoter-api.ts";
import { type CtlTables, entries, type Out, type Plugins, readSnippet } from "./snippets.ts";
import { type PrimaryOn, primaryOn, primaryString, promoteService, serviceName, servicesTarget, unit, type Unit } from "./system.ts";

export interface Paint {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  bold(s: string): string;
}

export function paint(tty: boolean): Paint {
  const c = (code: string) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { green: c("1;32"), red: c("1;31"), yellow: c("1;33"), blue: c("34"), bold: c("1") };
}

interface PromoterStatus {
  drbd_resource: string;
  path: string;
  enabled: boolean;
  primary_on: string;
  target: Unit;
  dependencies: Unit[];
  status: string;
  local: boolean;
}

interface Simple {
  path: string;
  enabled: boolean;
  address?: string;
  status: string;
}

export interface Status {
  promoter: PromoterStatus[];
  prometheus: Simple[];
  debugger: Simple[];
  umh: Simple[];
  agentx: Simple[];
}

/** A prometheus or agentx entry: its plugin's read() fills in the default address. */
interface Addressed {
  address: string;
}

const disabledStr = (enabled: boolean) => (enabled ? "" : " (disabled)");

export function collect(enabled: string[], disabled: string[], resources: string[], tables: CtlTables): Status {
  const st: Status = { promoter: [], prometheus: [], debugger: [], umh: [], agentx: [] };
  const tagged = [...enabled.map((p) => [true, p] as const), ...disabled.map((p) => [false, p] as const)];
  for (const [on, path] of tagged) {
    const pl: Plugins = readSnippet(path, tables);
    for (const p of entries<PromoterSnippet>(pl, "promoter")) {
      for (const [res, cfg] of Object.entries(p.resources)) {
        if (resources.length && !resources.includes(res)) continue;
        let prim: PrimaryOn = null;
        try {
          prim = primaryOn(res);
        } catch {
          prim = null;
        }
        const target = unit(servicesTarget(res));
        st.promoter.push({
          drbd_resource: res, path, enabled: on, primary_on: primaryString(prim), target,
          dependencies: [unit(promoteService(res)), ...cfg.start.map((s) => unit(serviceName(s, res)))],
          status: target.status, local: prim !== null && "local" in prim,
        });
      }
    }
    for (const x of entries<Addressed>(pl, "prometheus")) st.prometheus.push({ path, enabled: on, address: x.address, status: "active" });
    for (const _ of entries(pl, "debugger")) st.debugger.push({ path, enabled: on, status: "active" });
    for (const _ of entries(pl, "umh")) st.umh.push({ path, enabled: on, status: "active" });
    for (const x of entries<Addressed>(pl, "agentx")) st.agentx.push({ path, enabled: on, address: x.address, status: "active" });
  }
  return st;
}

export function toJson(st: Status): string {
  return JSON.stringify({
    ...st,
    promoter: st.promoter.map(({ local: _, ...p }) => p),
  });
}

const MARK: Record<string, (p: Paint) => string> = {
  active: (p) => p.green("●"), reloading: (p) => p.green("↻"), inactive: () => "○", failed: (p) => p.red("×"),
  activating: (p) => p.bold("●"), deactivating: (p) => p.bold("●"), maintenance: () => "○",
};
const mark = (s: string, p: Paint) => (MARK[s] ?? MARK.inactive!)(p);

function tcpCheck(address: string): Promise<string[]> {
  const m = /^(.*):(\d+)$/.exec(address);
  if (!m) return Promise.resolve([]);
  const hosts = m[1] ? [m[1].replace(/^\[|\]$/g, "")] : ["::", "0.0.0.0"];
  return Promise.all(hosts.map((h) => new Promise<string>((res) => {
    const shown = h.includes(":") ? `[${h}]:${m[2]}` : `${h}:${m[2]}`;
    const s = connect({ host: h, port: Number(m[2]), timeout: 2000 });
    s.once("connect", () => (s.destroy(), res(`TCP Connect (${shown}): success`)));
    s.once("timeout", () => (s.destroy(), res(`TCP Connect (${shown}): failed (timed out)`)));
    s.once("error", (e) => res(`TCP Connect (${shown}): failed (${e.message})`));
  })));
}

export async function terminal(st: Status, verbose: boolean, p: Paint): Promise<string> {
  let w = "";
  for (const x of st.promoter) {
    w += `${x.path}:\n`;
    const where = x.primary_on === "unknown" ? "<unknown>" : x.local ? "this node" : `node '${x.primary_on}'`;
    w += `Promoter: Resource ${x.drbd_resource}${disabledStr(x.enabled)} currently active on ${where}\n`;
    if (!x.enabled) {
      if (x.local) w += `${p.red("WARN:")} disabled but Primary\n`;
      w += "\n";
      continue;
    }
    w += `${mark(x.target.status, p)} ${x.target.name}\n`;
    x.dependencies.forEach((u, i) => {
      const sep = i === x.dependencies.length - 1 ? "└─" : "├─";
      const fr = u.freezer === "running" || u.freezer === "unknown" ? "" : `(${u.freezer === "thawing" ? u.freezer : p.blue(u.freezer)})`;
      w += `${mark(u.status, p)} ${sep} ${u.name}${fr}\n`;
    });
    w += "\n";
  }
  for (const x of st.prometheus) {
    w += `${x.path}:\nPrometheus${disabledStr(x.enabled)}: listening on ${p.green(x.address!)}\n`;
    if (verbose) for (const l of await tcpCheck(x.address!)) w += `${l}\n`;
    w += "\n";
  }
  for (const x of st.debugger) w += `${x.path}:\nDebugger${disabledStr(x.enabled)}: ${p.green("started")}\n\n`;
  for (const x of st.umh) w += `${x.path}:\nUMH${disabledStr(x.enabled)}: ${p.green("started")}\n\n`;
  for (const x of st.agentx) w += `${x.path}:\nAgentX${disabledStr(x.enabled)}: connecting to main agent at ${p.green(x.address!)}\n\n`;
  return w;
}

/** `ls`: one line per plugin, promoters with (at most three of) their start entries. */
export function ls(enabled: string[], disabled: string[], o: Out): void {
  const tagged = [...enabled.map((p) => [true, p] as const), ...disabled.map((p) => [false, p] as const)];
  for (const [on, path] of tagged) {
    o.out(`${path}:`);
    const pl = readSnippet(path, o.tables);
    for (const pr of entries<PromoterSnippet>(pl, "promoter")) {
      for (const [res, r] of Object.entries(pr.resources)) {
        const start = r.start.length > 3 ? [...r.start.slice(0, 3), "..."] : r.start;
        const single = Math.max(0, ...start.map((s) => s.length));
        const all = start.reduce((n, s) => n + s.length, 0);
        const delim = single > 80 || all > 80 ? "\n   " : "";
        o.out(`- Promoter: ${res}${disabledStr(on)}; start = [${start.map((s) => `${delim}"${s}"`).join(", ")}]`);
      }
    }
    for (const x of entries<Addressed>(pl, "prometheus")) o.out(`- Prometheus: ${x.address}`);
    for (const _ of entries(pl, "debugger")) o.out("- Debugger");
    for (const _ of entries(pl, "umh")) o.out("- UMH");
    for (const x of entries<Addressed>(pl, "agentx")) o.out(`- AgentX: ${x.address}`);
  }
}
