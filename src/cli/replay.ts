import { readFileSync } from "node:fs";
import type { AnyPluginDef } from "../plugin-api.ts";
import type { RawRecord } from "../records.ts";
import { Registry } from "../registry.ts";
import { loadConfig, type Config } from "../config/load.ts";
import { ConfigError } from "../config/issues.ts";
import { Pipeline } from "../pipeline.ts";
import { createDeviceDirectory } from "../devices/index.ts";
import { ServiceMap } from "../util/services.ts";
import { rootLog } from "../util/log.ts";
import { nativeAddon } from "../native.ts";
import { formatEventLine } from "../util/format.ts";
import { parseTime } from "../event.ts";
import { decodeKmsgText } from "../kmsg/decode.ts";
import { replayUevents } from "../uevent/replay.ts";
import { decodeEvents2Text } from "../drbd/events2.ts";
import { decodeJournalCapture, DEFAULT_DAEMONS, entryDaemon, journalRecord } from "../journal/decode.ts";
import * as v from "valibot";
import { MainSchema } from "../config/schema.ts";
import { hostname } from "node:os";
import { CONFIG_OPTION, parse, UsageError, type Io } from "./args.ts";

export const REPLAY_HELP = `Usage: storeventd replay (--kmsg FILE | --uevent FILE | --events2 FILE | --journal FILE) [options]

Runs the parsers over recorded input and prints the events on stdout. FILE may be - for stdin.
No root and no running daemon are needed.

Input:
  --kmsg FILE      a kernel log: raw /dev/kmsg records ("6,1234,5678,-;msg" with " KEY=value"
                   continuation lines), dmesg lines ("[   12.345678] msg", "<6>[...]") or
                   journal/syslog lines ("Nov 26 00:30:36 host kernel: msg")
  --uevent FILE    uevents as "udevadm monitor --kernel --property" prints them, or raw
                   NUL-separated netlink captures
  --events2 FILE   "drbdsetup events2 --full" output
  --journal FILE   journal entries as "journalctl -o export" or "journalctl -o json" print them;
                   only the storage daemons' entries (multipathd, dmeventd, lvm, mdadm, smartd,
                   iscsid, nvme, nvmf-autoconnect) are parsed, kernel-transport entries never

Options:
  -c, --config PATH        use this config's parsers (default: every parser) and main settings
      --receivers          also deliver to the config's receivers (default: print only)
      --json               print NDJSON, one event per line (default: one readable line)
      --model              with --events2: print the final DRBD model as "status --json" does,
                           instead of the events
      --boot-time TIME     RFC 3339 boot time for kmsg timestamps (default: this host's boot time)
      --accept-user-records  parse kmsg records of user facilities too (default: kernel only)
      --host-devices       identify devices (dev_path, dev_wwid, owners, mount points) from this
                           host's sysfs and mounts (default: never; the records are another time's)
  -h, --help               this help

A summary (records, events, skipped) goes to stderr.
Exit status: 0 done, 1 unreadable input, 2 usage or config error.`;

function hostBootTimeUs(): number {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"));
    if (m) return Number(m[1]) * 1e6;
  } catch {}
  return 0;
}

/** The input as text in pieces of about 4 MiB, cut only before a line that does not start with a
 * space (a /dev/kmsg record's " KEY=value" continuation lines stay with it), so a large file never
 * exists as one string plus all of its lines at once. */
export function* textChunks(data: Uint8Array, size = 4 << 20): Generator<string> {
  const dec = new TextDecoder("utf-8");
  let start = 0;
  while (start < data.length) {
    let end = Math.min(start + size, data.length);
    while (end < data.length && !(data[end - 1] === 0x0a && data[end] !== 0x20)) end++;
    yield dec.decode(data.subarray(start, end));
    start = end;
    Bun.gc(false); // the last piece's records are garbage now: keep the peak near one piece
  }
}

async function readInput(path: string): Promise<Uint8Array> {
  if (path === "-") return new Uint8Array(await Bun.stdin.arrayBuffer());
  return readFileSync(path);
}

export async function replayCommand(argv: string[], io: Io, plugins: AnyPluginDef[]): Promise<number> {
  const { values } = parse(argv, {
    ...CONFIG_OPTION,
    kmsg: { type: "string" }, uevent: { type: "string" }, events2: { type: "string" }, journal: { type: "string" },
    json: { type: "boolean" }, receivers: { type: "boolean" }, model: { type: "boolean" },
    "boot-time": { type: "string" }, "accept-user-records": { type: "boolean" }, "host-devices": { type: "boolean" },
  });
  if (values.help) return io.out(REPLAY_HELP), 0;
  const inputs = (["kmsg", "uevent", "events2", "journal"] as const).filter((k) => values[k] !== undefined);
  if (inputs.length !== 1) throw new UsageError("give exactly one of --kmsg, --uevent, --events2, --journal");
  const kind = inputs[0]!;
  if (values.model && kind !== "events2") throw new UsageError("--model goes with --events2");
  let bootUs = hostBootTimeUs();
  if (values["boot-time"] !== undefined) {
    bootUs = parseTime(values["boot-time"]);
    if (!Number.isFinite(bootUs)) throw new UsageError(`--boot-time: not an RFC 3339 time: ${values["boot-time"]}`);
  }

  const registry = new Registry(plugins);
  let cfg: Config;
  try {
    cfg = values.config
      ? loadConfig({ path: values.config, registry })
      : { main: { ...v.parse(MainSchema, {}), hostname: hostname() }, instances: [], files: [], embedded: false, drbdReactor: {} };
  } catch (e) {
    if (e instanceof ConfigError) return io.err(e.message), 2;
    throw e;
  }
  cfg = { ...cfg, instances: cfg.instances.filter((i) => i.kind === "parser" || (values.receivers && i.kind === "receiver")) };

  let data: Uint8Array;
  try {
    data = await readInput(values[kind]!);
  } catch (e) {
    io.err(`storeventd replay: ${(e as Error).message}`);
    return 1;
  }

  rootLog.level = "warn";
  // The records may come from another host or another day: this host's devices only when asked.
  const devices = createDeviceDirectory({ offline: !values["host-devices"] });
  devices.scan();
  const pipeline = new Pipeline({
    registry, log: rootLog, devices, services: new ServiceMap(), native: nativeAddon(), mode: "replay",
  });
  const applied = await pipeline.apply(cfg);
  if (applied.failed.length) {
    io.err(`storeventd replay: ${applied.failed.map((f) => f.error).join("\n")}`);
    await pipeline.stop(1000);
    return 1;
  }
  pipeline.folder.sources.add("kmsg"); // decodeKmsgText's records carry source "kmsg"
  const out: string[] = [];
  let size = 0;
  let events = 0;
  const flushOut = () => {
    if (out.length) process.stdout.write(out.join("\n") + "\n");
    out.length = 0;
    size = 0;
  };
  if (!values.model) {
    pipeline.subscribe((e) => {
      events++;
      const line = values.json ? JSON.stringify(e) : formatEventLine(e, false);
      out.push(line);
      size += line.length;
      if (size > 1 << 16) flushOut();
    });
  }

  let records = 0;
  let skipped = 0;
  const feed = (rec: RawRecord) => {
    records++;
    if (rec.kind === "kmsg") {
      if (rec.facility !== 0 && !values["accept-user-records"]) return void skipped++;
      rec.time_us ??= bootUs + rec.ts_us;
    }
    pipeline.handleRecord(rec);
  };
  if (kind === "kmsg") for (const chunk of textChunks(data)) for (const r of decodeKmsgText(chunk, "kmsg")) feed(r);
  else if (kind === "uevent") {
    // The udev catalog (DEVICE_*, SCSI_UNIT_ATTENTION, NVMe AENs) comes from the udev sender, not a parser.
    for (const { rec, drafts } of replayUevents(data, nativeAddon())) {
      feed(rec);
      for (const d of drafts) pipeline.emitDraft(d, rec, "udev");
    }
  }
  else if (kind === "journal") {
    const daemons = new Set<string>(DEFAULT_DAEMONS);
    let others = 0;
    for (const f of decodeJournalCapture(data)) {
      const daemon = entryDaemon(f, daemons);
      if (daemon) feed(journalRecord(f, daemon, "journal"));
      else others++;
    }
    if (others) io.err(`replay: ${others} journal entries of other programs or the kernel skipped`);
  }
  else for (const chunk of textChunks(data)) for (const r of decodeEvents2Text(chunk, "drbd")) feed(r);
  pipeline.flushAll();
  if (values.receivers) await pipeline.stop(cfg.main.shutdown_timeout);
  flushOut();
  if (values.model) io.out(JSON.stringify(pipeline.drbd.toStatusJson(), null, 2));
  io.err(`replay: ${records} records, ${events} events${skipped ? `, ${skipped} skipped (user facility; --accept-user-records parses them)` : ""}${pipeline.folder.folded ? `, ${pipeline.folder.folded} folded` : ""}`);
  return 0;
}
