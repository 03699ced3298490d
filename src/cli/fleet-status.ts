// `storeventd status --fleet`: on a fleet node, every host (liveness, last seen, events per severity
// in the last hour) and every DRBD resource with the hosts it runs on.
import type { FleetHost, FleetResource } from "../fleet-api.ts";
import { paint, table } from "../control/cli.ts";

interface Disk {
  "disk-state"?: string;
}

/** Per resource: where it is Primary, and each host's role and disks. */
export function fleetDrbdRows(list: FleetResource[]): string[][] {
  const by = new Map<string, FleetResource[]>();
  for (const r of list) {
    if (!by.has(r.resource.name)) by.set(r.resource.name, []);
    by.get(r.resource.name)!.push(r);
  }
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, rs]) => {
    const primary = rs.filter((r) => r.resource.role === "Primary").map((r) => r.host);
    const hosts = rs.map((r) => {
      const disks = ((r.resource.devices ?? []) as Disk[]).map((d) => d["disk-state"] ?? "?").join(",");
      return `${r.host} ${r.resource.role}${disks ? ` ${disks}` : ""}${r.stale ? " (silent)" : ""}`;
    });
    return [name, primary.join(",") || "-", hosts.join("; ")];
  });
}

export function formatFleet(hosts: FleetHost[], drbd: FleetResource[], color: boolean): string {
  const out: string[] = [`Hosts (${hosts.length}):`];
  if (hosts.length) {
    const rows = hosts.map((h) => [
      h.hostname, h.state, h.last_seen, h.version ?? "-", h.uptime_s === undefined ? "-" : `${h.uptime_s}s`, String(h.drops ?? "-"),
      String(h.events_1h.info), String(h.events_1h.warn), String(h.events_1h.error), h.last_error ?? "-",
    ]);
    out.push(table(["HOST", "STATE", "LAST SEEN", "VERSION", "UPTIME", "DROPS", "INFO/1h", "WARN/1h", "ERROR/1h", "LAST ERROR"], rows,
      (r, c, s) => (c === 1 && rows[r]![1] === "silent" ? paint(color, "\x1b[31m", s) : s)).trimEnd().replace(/^/gm, "  "));
  } else out.push("  -- no hosts heard from yet --");
  out.push("", "DRBD resources:");
  const rows = fleetDrbdRows(drbd);
  if (rows.length) {
    out.push(table(["RESOURCE", "PRIMARY ON", "HOSTS"], rows,
      (r, c, s) => (c === 1 && rows[r]![1]!.includes(",") ? paint(color, "\x1b[31m", s) : s)).trimEnd().replace(/^/gm, "  "));
  } else out.push("  -- none reported --");
  return out.join("\n") + "\n";
}
