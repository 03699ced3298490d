// drbd-reactorctl's promoter verbs besides evict (ctl-evict.ts): start-until starts a disabled
// snippet's stack up to one entry; `disable --now`'s stop and `edit`'s mount check.
import { existsSync } from "node:fs";
import type { CtlVerbContext } from "../../../src/plugin-api.ts";
import type { PromoterSnippet } from "./ctl-snippet.ts";
import { promoteService, serviceName, servicesTarget, systemctl } from "../../../src/plugin-kit/ctl.ts";

export const resourcesOf = (e: Record<string, unknown>) => (e as unknown as PromoterSnippet).resources;

/** `disable --now`, `restart --with-targets`: stop each resource's drbd-services target. */
export function stopTargets(entry: Record<string, unknown>): void {
  for (const res of Object.keys(resourcesOf(entry))) systemctl("stop", servicesTarget(res));
}

export function checkMount(entry: Record<string, unknown>, force: boolean, warn: (s: string) => void): string | undefined {
  for (const r of Object.values(resourcesOf(entry))) {
    if (r.start.at(-1)?.endsWith(".mount")) {
      const msg = "Mount unit should not be the topmost unit, consider using an OCF file system RA";
      if (!force) return msg;
      warn(msg);
    }
  }
  return undefined;
}

/** The start list up to a number of entries or up to (and with) a named one. */
export function startUntilList(start: string[], until: string): string[] {
  if (/^\d+$/.test(until)) return start.slice(0, Number(until));
  const i = start.indexOf(until);
  if (i < 0) throw new Error(`Could not find unit '${until}' in start list`);
  return start.slice(0, i + 1);
}

export function startUntil(c: CtlVerbContext): void {
  const until = c.args[0]!;
  const paths = c.pick([c.args[1]!], "disabled", true);
  if (!paths.length) throw new Error("Could not get disabled snippet file");
  const path = paths[0]!;
  if (!existsSync(path)) throw new Error(`File '${path}' does not exist`);
  for (const pr of c.read(path).entries) {
    for (const [res, cfg] of Object.entries(resourcesOf(pr))) {
      const list = startUntilList(cfg.start, until);
      for (const u of [promoteService(res), ...list.map((s) => serviceName(s, res))]) {
        c.out(`systemctl start ${u}`);
        systemctl("start", u);
      }
      c.info("To resume normal operation, execute:");
      c.out(`- systemctl start ${servicesTarget(res)} # on this node`);
      c.out(`- ${c.self} enable ${path} # on all cluster nodes`);
    }
  }
}
