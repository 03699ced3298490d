// `storeventd status`: the running daemon's health, like `systemctl status`.
import { ControlClient, type StatusDoc } from "../control/client.ts";
import { COMMON_HELP, COMMON_OPTIONS, paint, parseFlags, runCommand, socketFrom, table, useColor, type CommandIO } from "../control/cli.ts";
import type { InstanceStatus } from "../daemon-api.ts";
import { formatFleet } from "./fleet-status.ts";

export const STATUS_USAGE = `Usage: storeventd status [OPTIONS]

Show the running daemon: version, pid, uptime, config files, native addon or TypeScript fallback,
per-sender and per-parser counters, per-receiver queue depth, sent, dropped and errors, the event
store, and a summary of DRBD resources when the drbd source runs.

Options:
      --fleet         on a fleet node (a daemon with the nats sender): every host with its
                      state (alive/silent), last seen, version, drops and events per severity
                      in the last hour; every DRBD resource with where it is Primary and each
                      host's role and disks
      --json          the status document as JSON, with DRBD resources under "drbd" (an array
                      in the shape and key names of \`drbdsetup status --json\`)
${COMMON_HELP}

Exit status: 0 running, 1 not running (or unreachable), 2 usage.
`;

function duration(s: number): string {
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return [d ? `${d}d` : "", d || h ? `${h}h` : "", d || h || m ? `${m}min` : "", `${sec}s`].filter(Boolean).join(" ");
}

function bytes(n: number): string {
  return n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

const kv = (o: Record<string, unknown> | undefined) => Object.entries(o ?? {}).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(" ");

interface DrbdResource {
  name: string;
  role?: string;
  suspended?: boolean;
  devices?: { volume: number; minor?: number; "disk-state"?: string; quorum?: boolean }[];
  connections?: {
    name?: string; "peer-node-id"?: number; "connection-state"?: string; "peer-role"?: string;
    peer_devices?: { volume: number; "replication-state"?: string; "peer-disk-state"?: string; "percent-in-sync"?: number }[];
  }[];
}

/** One line per DRBD resource: role, local disks, and each peer's connection, role and disks. */
export function drbdSummary(resources: DrbdResource[]): string[] {
  return resources.map((r) => {
    const disks = (r.devices ?? []).map((d) => `${d["disk-state"] ?? "?"}${d.quorum === false ? " (no quorum)" : ""}`).join(",") || "no volumes";
    const peers = (r.connections ?? []).map((c) => {
      const pd = (c.peer_devices ?? []).map((p) => {
        const sync = p["percent-in-sync"] !== undefined && p["percent-in-sync"] < 100 ? ` ${p["percent-in-sync"].toFixed(1)}% in sync` : "";
        const repl = p["replication-state"] && !["Established", "Off"].includes(p["replication-state"]) ? ` ${p["replication-state"]}` : "";
        return `${p["peer-disk-state"] ?? "?"}${repl}${sync}`;
      }).join(",");
      return `${c.name ?? `node ${c["peer-node-id"]}`} ${c["connection-state"] ?? "?"} ${c["peer-role"] ?? "?"}${pd ? " " + pd : ""}`;
    });
    return `${r.name}: ${r.role ?? "?"}${r.suspended ? " (suspended)" : ""}, disk ${disks}${peers.length ? "; peers: " + peers.join("; ") : ""}`;
  });
}

export function formatStatus(st: StatusDoc, drbd: unknown[], color: boolean): string {
  const out: string[] = [];
  out.push(`${paint(color, "\x1b[32m", "●")} storeventd - storage event daemon, running (pid ${st.pid})`);
  const row = (k: string, v: string) => out.push(`${k.padStart(12)}: ${v}`);
  row("Version", `${st.version} (${st.commit})`);
  row("Since", `${st.started}; ${duration(st.uptime_s)} ago`);
  row("Config", st.config_files.length ? st.config_files.join(", ") : "embedded default");
  row("Addon", st.addon.loaded ? `loaded (${st.addon.features.join(", ")})` : paint(color, "\x1b[33m", `fallback to TypeScript: ${st.addon.error ?? "not loaded"}`));
  row("Host", st.hostname);
  row("Events", kv(st.counters) || "-");
  if (st.store) {
    const s = st.store;
    row("Store", `${s.path}, ${bytes(s.bytes)}, ${s.events} events${s.oldest ? ` (${s.oldest} .. ${s.newest})` : ""}`);
  } else row("Store", "none (no store receiver)");
  if (st.control) row("Control", `${st.control.socket}, ${st.control.follow_clients ?? 0} follow clients, ${st.control.follow_dropped ?? 0} dropped as too slow`);
  const of = (k: InstanceStatus["kind"]) => st.instances.filter((i) => i.kind === k);
  for (const [title, kind] of [["Senders", "sender"], ["Parsers", "parser"]] as const) {
    const list = of(kind);
    if (!list.length) continue;
    out.push("", `${title}:`);
    out.push(table(["NAME", "PLUGIN", "COUNTERS"], list.map((i) => [i.name, i.plugin, kv(i.counters) || "-"])).trimEnd().replace(/^/gm, "  "));
  }
  const receivers = of("receiver");
  if (receivers.length) {
    out.push("", "Receivers:");
    out.push(table(["NAME", "PLUGIN", "QUEUE", "SENT", "DROPPED", "ERRORS", "COUNTERS"], receivers.map((i) => {
      const q = i.queue;
      return [i.name, i.plugin, q ? `${q.depth}/${q.max}` : "-", String(q?.sent ?? "-"), String(q?.dropped ?? "-"), String(q?.errors ?? "-"), kv(i.counters) || "-"];
    })).trimEnd().replace(/^/gm, "  "));
  }
  if (drbd.length) {
    out.push("", "DRBD resources:");
    for (const l of drbdSummary(drbd as DrbdResource[])) out.push(`  ${l}`);
  }
  return out.join("\n") + "\n";
}

export async function statusCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand("status", io, async () => {
    const f = parseFlags(argv, { ...COMMON_OPTIONS, fleet: { type: "boolean" } });
    if (f.help) {
      io.out(STATUS_USAGE);
      return 0;
    }
    const client = new ControlClient(socketFrom(f));
    if (f.fleet) {
      const [hosts, drbd] = await Promise.all([client.fleetHosts(), client.fleetDrbd()]);
      io.out(f.json ? JSON.stringify({ hosts, drbd }, null, 2) + "\n" : formatFleet(hosts, drbd, useColor(io)));
      return 0;
    }
    const [st, drbd] = await Promise.all([client.status(), client.drbdResources()]);
    if (f.json) io.out(JSON.stringify({ ...st, drbd }, null, 2) + "\n");
    else io.out(formatStatus(st, drbd, useColor(io)));
    return 0;
  });
}
