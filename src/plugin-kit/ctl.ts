// For plugins' `ctl` contributions (drbd-reactorctl's status, ls and verbs): the host's systemctl and
// DRBD role (src/ctl/system.ts), the unit marks status draws, and the section of a plugin whose
// entries are simply "started" (optionally at an address, checked by TCP with --verbose).
import { netLib } from "../util/lazy-builtins.ts";
import type { CtlPaint, CtlStatus } from "../plugin-api.ts";
export { primaryOn, primaryString, promoteService, reloadDaemon, run, serviceName, servicesTarget, systemctl, unit } from "../ctl/system.ts";
export type { PrimaryOn, Unit } from "../ctl/system.ts";

export const disabledStr = (enabled: boolean) => (enabled ? "" : " (disabled)");

const MARK: Record<string, (p: CtlPaint) => string> = {
  active: (p) => p.green("●"), reloading: (p) => p.green("↻"), inactive: () => "○", failed: (p) => p.red("×"),
  activating: (p) => p.bold("●"), deactivating: (p) => p.bold("●"), maintenance: () => "○",
};
/** systemctl's mark of a unit's ActiveState. */
export const mark = (s: string, p: CtlPaint) => (MARK[s] ?? MARK.inactive!)(p);

function tcpCheck(address: string): Promise<string[]> {
  const m = /^(.*):(\d+)$/.exec(address);
  if (!m) return Promise.resolve([]);
  const hosts = m[1] ? [m[1].replace(/^\[|\]$/g, "")] : ["::", "0.0.0.0"];
  return Promise.all(hosts.map((h) => new Promise<string>((res) => {
    const shown = h.includes(":") ? `[${h}]:${m[2]}` : `${h}:${m[2]}`;
    const s = netLib().connect({ host: h, port: Number(m[2]), timeout: 2000 });
    s.once("connect", () => (s.destroy(), res(`TCP Connect (${shown}): success`)));
    s.once("timeout", () => (s.destroy(), res(`TCP Connect (${shown}): failed (timed out)`)));
    s.once("error", (e) => res(`TCP Connect (${shown}): failed (${e.message})`));
  })));
}

interface Started {
  path: string;
  enabled: boolean;
  address?: string;
  status: string;
}

/** A section whose entries always show as started: `Label: started`, or with `at` (e.g. "listening on")
 * `Label: at ADDRESS` from the entry's (read) address, TCP-checked with --verbose when `probe`. */
export function startedSection(key: string, label: string, at?: { says: string; probe?: boolean }): CtlStatus<Started> {
  return {
    key,
    items: (e, w) => [{ path: w.path, enabled: w.enabled, ...(at ? { address: String(e.address) } : {}), status: "active" }],
    async text(x, verbose, p) {
      if (!at) return `${x.path}:\n${label}${disabledStr(x.enabled)}: ${p.green("started")}\n\n`;
      let w = `${x.path}:\n${label}${disabledStr(x.enabled)}: ${at.says} ${p.green(x.address!)}\n`;
      if (verbose && at.probe) for (const l of await tcpCheck(x.address!)) w += `${l}\n`;
      return `${w}\n`;
    },
    ls: (e) => [at ? `- ${label}: ${String(e.address)}` : `- ${label}`],
  };
}
