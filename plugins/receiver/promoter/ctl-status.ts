// The promoter's section of `ctl status` / `ctl ls` (drbd-reactorctl's): per resource where it is
// Primary, its drbd-services target and dependencies as {name, status, freezer}; `--json` keeps
// drbd-reactorctl's keys (drbd_resource, path, enabled, primary_on, target, dependencies, status).
import type { CtlStatus } from "../../../src/plugin-api.ts";
import type { PromoterSnippet } from "./ctl-snippet.ts";
import {
  disabledStr, mark, type PrimaryOn, primaryOn, primaryString, promoteService, serviceName, servicesTarget, unit, type Unit,
} from "../../../src/plugin-kit/ctl.ts";

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

export const promoterStatus: CtlStatus<PromoterStatus> = {
  key: "promoter",
  items(entry, at) {
    const out: PromoterStatus[] = [];
    for (const [res, cfg] of Object.entries((entry as unknown as PromoterSnippet).resources)) {
      if (at.resources.length && !at.resources.includes(res)) continue;
      let prim: PrimaryOn = null;
      try {
        prim = primaryOn(res);
      } catch {
        prim = null;
      }
      const target = unit(servicesTarget(res));
      out.push({
        drbd_resource: res, path: at.path, enabled: at.enabled, primary_on: primaryString(prim), target,
        dependencies: [unit(promoteService(res)), ...cfg.start.map((s) => unit(serviceName(s, res)))],
        status: target.status, local: prim !== null && "local" in prim,
      });
    }
    return out;
  },
  json: ({ local: _, ...p }) => p,
  text(x, _verbose, p) {
    let w = `${x.path}:\n`;
    const where = x.primary_on === "unknown" ? "<unknown>" : x.local ? "this node" : `node '${x.primary_on}'`;
    w += `Promoter: Resource ${x.drbd_resource}${disabledStr(x.enabled)} currently active on ${where}\n`;
    if (!x.enabled) {
      if (x.local) w += `${p.red("WARN:")} disabled but Primary\n`;
      return `${w}\n`;
    }
    w += `${mark(x.target.status, p)} ${x.target.name}\n`;
    x.dependencies.forEach((u, i) => {
      const sep = i === x.dependencies.length - 1 ? "└─" : "├─";
      const fr = u.freezer === "running" || u.freezer === "unknown" ? "" : `(${u.freezer === "thawing" ? u.freezer : p.blue(u.freezer)})`;
      w += `${mark(u.status, p)} ${sep} ${u.name}${fr}\n`;
    });
    return `${w}\n`;
  },
  /** Each resource with (at most three of) its start entries. */
  ls(entry, on) {
    return Object.entries((entry as unknown as PromoterSnippet).resources).map(([res, r]) => {
      const start = r.start.length > 3 ? [...r.start.slice(0, 3), "..."] : r.start;
      const single = Math.max(0, ...start.map((s) => s.length));
      const all = start.reduce((n, s) => n + s.length, 0);
      const delim = single > 80 || all > 80 ? "\n   " : "";
      return `- Promoter: ${res}${disabledStr(on)}; start = [${start.map((s) => `${delim}"${s}"`).join(", ")}]`;
    });
  },
};
