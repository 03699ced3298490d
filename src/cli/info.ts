// `storeventd info DEV`: what is known of a block device: ids, size, stack, mount points.
// Until the control API exists it reads sysfs directly (offline); recent events need the daemon.
import { parse, UsageError } from "./args.ts";
import { DeviceInventory, type BlockDevice, type Mount } from "../devices/index.ts";
import type { Owner } from "../plugin-api.ts";
import { ControlClient, resolveSocketPath } from "../control/client.ts";
import { formatEventLine } from "../util/format.ts";
import type { StorageEvent } from "../event.ts";
import { formatBytes } from "../util/format.ts";

export const INFO_HELP = `Usage: storeventd info DEV [--json]

Shows what is known of a block device: its ids (WWID, serial, DM/MD UUID, by-id links), size, the
stack (the devices it sits on and the devices stacked on it), mount points and recent events.
DEV is a kernel name (sdb, sdb1, dm-3, nvme0n1, md0, loop0), a /dev path (also /dev/mapper/NAME
or /dev/disk/by-id/...), major:minor (8:16), a SCSI address (2:0:0:1), a WWID, serial or UUID.

Options:
  -c, --config PATH    the daemon's config (to find its control socket)
      --socket PATH    the control socket (default: from the config, else /run/storeventd/control.sock)
      --json           print one JSON object
      --sys-root PATH  read sysfs from PATH (default /sys)
      --dev-root PATH  device nodes under PATH (default /dev)
  -h, --help           this help

Exit status: 0 found, 1 no such device, 2 usage error.`;

export interface InfoReport {
  name: string;
  majmin: string;
  devtype: string;
  dev_path: string;
  size_bytes: number;
  ids: { wwid: string; serial: string; model: string; dm_name: string; dm_uuid: string; md_uuid: string; scsi_address: string; by_id: string[] };
  /** Devices below (slaves, transitively; a partition's disk), nearest first. */
  sits_on: string[];
  /** Devices stacked above (holders, transitively; for a partition also its disk's), nearest first. */
  stacked_on_it: Owner[];
  partitions: string[];
  mounts: Mount[];
  recent_events: StorageEvent[];
  source: "sysfs";
  note: string;
}

function below(inv: DeviceInventory, dev: BlockDevice): string[] {
  const out: string[] = [];
  const seen = new Set([dev.name]);
  const queue = [...dev.slaves, ...(dev.parent ? [dev.parent] : [])];
  while (queue.length && out.length < 64) {
    const n = queue.shift()!;
    if (seen.has(n)) continue;
    seen.add(n);
    out.push(n);
    const d = inv.get(n);
    if (d) queue.push(...d.slaves, ...(d.parent ? [d.parent] : []));
  }
  return out;
}

export function infoReport(inv: DeviceInventory, query: string): InfoReport | undefined {
  const name = inv.resolve(query);
  const dev = name ? inv.get(name) : undefined;
  if (!dev) return undefined;
  return {
    name: dev.name, majmin: dev.majmin, devtype: dev.devtype, dev_path: dev.dev_path, size_bytes: dev.size_bytes,
    ids: {
      wwid: dev.wwid, serial: dev.serial, model: dev.model, dm_name: dev.dm_name, dm_uuid: dev.dm_uuid,
      md_uuid: dev.md_uuid, scsi_address: dev.scsi_address, by_id: dev.by_id,
    },
    sits_on: below(inv, dev),
    stacked_on_it: inv.ownersOf(dev.name),
    partitions: dev.partitions,
    mounts: inv.mountsOf(dev.name),
    recent_events: [],
    source: "sysfs",
    note: "read from sysfs",
  };
}

function text(r: InfoReport): string {
  const lines = [`${r.name} (${r.devtype}, ${r.majmin})`];
  const row = (k: string, v: string) => {
    if (v) lines.push(`  ${(k + ":").padEnd(15)}${v}`);
  };
  row("path", r.dev_path);
  row("size", r.size_bytes >= 0 ? `${formatBytes(r.size_bytes)} (${r.size_bytes} bytes)` : "unknown");
  row("wwid", r.ids.wwid);
  row("serial", r.ids.serial);
  row("model", r.ids.model);
  row("scsi address", r.ids.scsi_address);
  row("dm name", r.ids.dm_name);
  row("dm uuid", r.ids.dm_uuid);
  row("md uuid", r.ids.md_uuid);
  row("by-id", r.ids.by_id.join(" "));
  lines.push(`  ${"sits on:".padEnd(15)}${r.sits_on.join(", ") || "-"}`);
  lines.push(`  ${"stacked on it:".padEnd(15)}${r.stacked_on_it.map((o) => o.dev_name + (o.dev_wwid ? ` (${o.dev_wwid})` : "")).join(", ") || "-"}`);
  row("partitions", r.partitions.join(", "));
  lines.push(`  ${"mounted on:".padEnd(15)}${r.mounts.map((m) => `${m.mount_point} (${m.fs_type})`).join(", ") || "-"}`);
  if (!r.recent_events.length) lines.push(`  ${"recent events:".padEnd(15)}none (${r.note})`);
  else {
    lines.push(`  recent events (${r.note}):`);
    for (const e of r.recent_events) lines.push(`    ${formatEventLine(e, false)}`);
  }
  return lines.join("\n");
}

export async function infoCommand(argv: string[], io: { out(s: string): void; err(s: string): void }): Promise<number> {
  let values: { json?: boolean; help?: boolean; "sys-root"?: string; "dev-root"?: string; socket?: string; config?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv, {
      config: { type: "string", short: "c" }, json: { type: "boolean" }, socket: { type: "string" },
      "sys-root": { type: "string" }, "dev-root": { type: "string" },
    }, true));
    if (values.help) return io.out(INFO_HELP), 0;
    if (positionals.length !== 1) throw new UsageError("give exactly one DEV");
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`storeventd info: ${e.message}\nTry 'storeventd info --help'.`);
    return 2;
  }
  const inv = new DeviceInventory({ sysRoot: values["sys-root"], devRoot: values["dev-root"] });
  const report = infoReport(inv, positionals[0]!);
  if (!report) {
    io.err(`storeventd info: no block device matches "${positionals[0]}"`);
    return 1;
  }
  // Recent events come from the running daemon's store; ids and the stack from sysfs either way.
  const socket = resolveSocketPath({ socket: values.socket, config: values.config });
  try {
    report.recent_events = await new ControlClient(socket).deviceEvents(report.name, 10);
    report.note = "from the daemon's store";
  } catch (e) {
    report.note = `daemon not reachable at ${socket}: ${e instanceof Error ? e.message.split("\n")[0] : e}`;
  }
  io.out(values.json ? JSON.stringify(report) : text(report));
  return 0;
}
