import { readFileSync } from "node:fs";
import type { AnyPluginDef, EventDraft } from "../plugin-api.ts";
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
import { statusJsonPieces } from "../drbd/views.ts";
import { openInput, peakRssMib, Progress, writeAll, type Input } from "./replay-io.ts";
import * as v from "valibot";
import { MainSchema } from "../config/schema.ts";
import { hostname } from "node:os";
import { CONFIG_OPTION, parse, UsageError, type Io } from "./args.ts";

/** The inputs replay reads: the senders' contributions. */
function inputHelp(plugins: AnyPluginDef[]): { input: string; order: number; text: string }[] {
  const senders = plugins.flatMap((d) => (d.kind === "sender" && d.replay?.help ? [{ input: d.replay.input, ...d.replay.help }] : []));
  return senders.sort((a, b) => a.order - b.order);
}

export function replayHelp(plugins: AnyPluginDef[]): string {
  const inputs = inputHelp(plugins);
  const lines = inputs.map((i) => i.text.split("\n").map((l, n) => (n ? " ".repeat(19) : `  --${i.input} FILE`.padEnd(19)) + l).join("\n"));
  return `Usage: storeventd replay (${inputs.map((i) => `--${i.input} FILE`).join(" | ")}) [options]

Runs the parsers over recorded input and prints the events on stdout. FILE may be - for stdin.
No root and no running daemon are needed.

Input:
${lines.join("\n")}

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
  -q, --quiet              no progress line and no summary
  -h, --help               this help

The input is read in pieces (memory stays flat whatever its size). On a terminal, stderr shows a
progress line (bytes and records done, records/s, ETA); at the end a summary (records, events,
skipped, time, peak memory) goes to stderr. When the reader of the output goes away (| head),
replay stops reading its input and says so in the summary.
Exit status: 0 done (also when the output was closed), 1 unreadable input, 2 usage or config error.`;
}

function hostBootTimeUs(): number {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"));
    if (m) return Number(m[1]) * 1e6;
  } catch {}
  return 0;
}

async function readAll(path: string): Promise<Uint8Array> {
  if (path === "-") return new Uint8Array(await Bun.stdin.arrayBuffer());
  return readFileSync(path);
}

/** Pieces of whole records through a sender's decode into the pipeline. A function of its own so the
 * JIT compiles this loop when it gets hot, not the whole command around it. */
function feedPieces(
  pieces: Iterable<Uint8Array>, decode: (piece: Uint8Array) => Iterable<{ rec: RawRecord; drafts: EventDraft[] }>,
  feed: (rec: RawRecord) => void, emitDraft: (d: EventDraft, rec: RawRecord) => void, tick: () => void,
): void {
  let n = 0;
  let p = 0;
  for (const piece of pieces) {
    for (const { rec, drafts } of decode(piece)) {
      feed(rec);
      // In this one long synchronous loop JSC lets garbage (mostly the decoded text) reach 130+ MiB
      // before it collects. A young-generation collection every 16384 records and a full one every
      // 8 pieces (8 MiB of input) keep the peak flat; measured on 1M records (best of 5): every
      // 4096 and 4 pieces 81 MiB at 2.10 s; these 91 MiB at 1.89 s; none 138 MiB at 1.78 s.
      if ((++n & 16383) === 0) Bun.gc(false);
      if (drafts.length) for (const d of drafts) emitDraft(d, rec);
    }
    tick();
    if (++p % 8 === 0) Bun.gc(true);
  }
}

/** Thrown by feed once the output is closed: ends the replay early, quietly. */
const OUTPUT_CLOSED = new Error("output closed");

export async function replayCommand(argv: string[], io: Io, plugins: AnyPluginDef[]): Promise<number> {
  const { values } = parse(argv, {
    ...CONFIG_OPTION,
    kmsg: { type: "string" }, uevent: { type: "string" }, events2: { type: "string" }, journal: { type: "string" },
    json: { type: "boolean" }, receivers: { type: "boolean" }, model: { type: "boolean" },
    "boot-time": { type: "string" }, "accept-user-records": { type: "boolean" }, "host-devices": { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
  });
  if (values.help) return io.out(replayHelp(plugins)), 0;
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
  const contributed = plugins.find((d) => d.kind === "sender" && d.replay?.input === kind);
  if (!contributed) throw new UsageError(`no plugin of this build reads --${kind} input`);
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

  // A journal capture is replayed whole; a contribution with a cut (kmsg) or a stream() of its own
  // (events2, uevent) is streamed.
  let data: Uint8Array | null = null;
  let input: Input;
  try {
    if (!contributed.replay!.stream && !contributed.replay!.cut) data = await readAll(values[kind]!);
    input = openInput(values[kind]!);
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
  // As a running sender's: its records carry the plugin's name as their source.
  if (contributed.foldRepeats) pipeline.folder.sources.add(contributed.name);
  const out: string[] = [];
  let size = 0;
  let events = 0;
  // Synchronous writes: output never piles up in memory behind a slow reader. A reader that went
  // away (`replay ... | head`) ends the replay quietly (see feed), exit status 0.
  let outputClosed = false;
  const flushOut = () => {
    try {
      if (out.length && !outputClosed) writeAll(1, out.join("\n") + "\n");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EPIPE") throw e;
      outputClosed = true;
    }
    out.length = 0;
    size = 0;
  };
  if (!values.model) {
    pipeline.subscribe((e) => {
      if (outputClosed) return;
      events++;
      const line = values.json ? JSON.stringify(e) : formatEventLine(e, false);
      out.push(line);
      size += line.length;
      if (size > 1 << 16) flushOut();
    });
  }
  const progress = new Progress(input, !values.quiet && process.stderr.isTTY === true);

  let records = 0;
  let skipped = 0;
  const reader = contributed.replay!;
  const feed = (rec: RawRecord) => {
    // Ends the piece loop; a streamed input (a native reader thread's callback) is read to its end.
    if (outputClosed) {
      if (reader.stream) return;
      throw OUTPUT_CLOSED;
    }
    records++;
    if (rec.kind === "kmsg") {
      if (rec.facility !== 0 && !values["accept-user-records"]) return void skipped++;
      rec.time_us ??= bootUs + rec.ts_us;
    }
    pipeline.handleRecord(rec);
  };
  try {
    if (reader.stream) {
      // A sender that reads the input itself, streamed, as it reads live (events2: its reader thread).
      await reader.stream({
        addon: nativeAddon(),
        takeFd: () => (input.fd === 0 ? null : input.takeFd()),
        pieces: (cut) => input.pieces(cut),
        emit: feed,
        events2Fast: () => {
          const fast = pipeline.events2Fast();
          return fast && { apply: fast.apply, taken: (n) => (fast.taken(n), (records += n)) };
        },
        tick: () => progress.tick(records),
      });
    } else {
      // A sender's own reader, fed the input piece by piece when it can be cut (kmsg: a kernel log of
      // any size; udev: a capture), else whole (journal). Its drafts are events the sender itself makes
      // (udev's catalog: DEVICE_*, SCSI_UNIT_ATTENTION, NVMe AENs).
      const note = (l: string) => io.err(l);
      const decode = reader.decoder?.(nativeAddon(), note) ?? ((piece: Uint8Array) => reader.decode!(piece, nativeAddon(), note));
      feedPieces(reader.cut ? input.pieces(reader.cut) : [data!], decode, feed,
        (d, rec) => pipeline.emitDraft(d, rec, contributed.name), () => progress.tick(records));
    }
  } catch (e) {
    if (e !== OUTPUT_CLOSED) throw e;
  }
  pipeline.flushAll();
  if (values.receivers) await pipeline.stop(cfg.main.shutdown_timeout);
  flushOut();
  if (values.model) for (const piece of statusJsonPieces(pipeline.drbd.resources())) io.out(piece);
  progress.end();
  const secs = progress.seconds();
  if (!values.quiet) {
    io.err(`replay: ${records} records, ${events} events${outputClosed ? " (stopped: the output was closed)" : ""}${skipped ? `, ${skipped} skipped (user facility; --accept-user-records parses them)` : ""}${pipeline.folder.folded ? `, ${pipeline.folder.folded} folded` : ""}` +
      `, ${secs.toFixed(2)} s, ${Math.round(records / Math.max(secs, 1e-6))} records/s, peak RSS ${peakRssMib()} MiB`);
  }
  return 0;
}
