// The journal sender: entries of userspace storage daemons (multipathd, dmeventd, mdadm, smartd,
// iscsid, nvme) from the local journal, with a persistent cursor (nothing twice, nothing missed after
// a restart while the entries are still in the journal). Kernel entries are the kmsg sender's.
import * as v from "valibot";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { definePlugin, Duration, type JournalRecord, type Sender, type SenderContext } from "../../../src/plugin-api.ts";
import { cursorOptions, DEFAULT_DAEMONS, openJournalReader, readStateFile, writeStateFile, type JournalReaderHandle } from "../../../src/plugin-kit/readers.ts";
import { Backoff } from "../../../src/plugin-kit/backoff.ts";
import { replayJournal } from "./replay.ts";
import sample from "./sample.toml" with { type: "text" };

export const schema = v.strictObject({
  daemons: v.pipe(v.optional(v.array(v.pipe(v.string(), v.regex(/^[^=\s]{1,64}$/))), [...DEFAULT_DAEMONS]), v.description(
    "Read only entries whose SYSLOG_IDENTIFIER or _COMM is one of these; entries of the kernel transport are never read.",
  )),
  root_only: v.pipe(v.optional(v.boolean(), true), v.description(
    "Read only entries of processes running as root (_UID=0, a field journald sets and clients cannot forge): " +
      "the storage daemons run as root, and any user can write a line tagged smartd or multipathd.",
  )),
  from: v.pipe(v.optional(v.picklist(["cursor", "boot", "end"]), "cursor"), v.description(
    '"cursor": resume after the last entry handled, or from this boot\'s start without a cursor; ' +
      '"boot": the entries of this boot; "end": only entries written from now on.',
  )),
  reader: v.pipe(v.optional(v.picklist(["auto", "sd-journal", "journalctl"]), "auto"), v.description(
    '"auto": the addon\'s sd-journal reader when the addon was built with libsystemd and ' +
      'libsystemd.so.0 loads (it is opened when the sender starts), else a `journalctl --follow -o export` ' +
      'child; the other values force one ("sd-journal" fails at start without the library).',
  )),
  namespace: v.pipe(v.optional(v.string(), ""), v.description(
    'Read this journal namespace (systemd-journald@NAME) instead of the default journal ("").',
  )),
  directory: v.pipe(v.optional(v.string(), ""), v.description(
    'Read the journal files of this directory instead of the local journal ("").',
  )),
  poll_interval: v.pipe(v.optional(Duration, "10ms"), v.description(
    "sd-journal reader: look for new entries this often. journald wakes readers at most every 250 ms; " +
      'entries are readable at once, so this bounds the latency ("0s": wake-ups only).',
  )),
  ...cursorOptions("journal.cursor", "the cursor of the last entry handled"),
});
export type JournalSenderConfig = v.InferOutput<typeof schema>;

export function readJournalCursor(path: string): string {
  const c = readStateFile(path) as { cursor?: unknown } | undefined;
  return typeof c?.cursor === "string" ? c.cursor : "";
}

function writeJournalCursor(path: string, cursor: string): void {
  writeStateFile(path, { cursor });
}

/** Wall-clock µs of this boot (/proc/stat btime, whole seconds). */
function bootTimeUs(): number {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"));
    return m ? Number(m[1]) * 1e6 : 0;
  } catch {
    return 0;
  }
}

export function createJournalSender(config: JournalSenderConfig, ctx: SenderContext): Sender {
  if (config.namespace && config.directory) throw new Error("give namespace or directory, not both");
  if (config.daemons.length === 0) throw new Error("daemons: name at least one daemon");
  if (config.reader === "sd-journal" && typeof ctx.native?.JournalReader !== "function") {
    throw new Error('reader = "sd-journal": the addon was built without libsystemd (or is not loaded)');
  }
  // The addon opens libsystemd.so.0 only now (not at every daemon start); without it, "auto" reads
  // through journalctl and "sd-journal" fails at start with the reason.
  let noLibsystemd: string | undefined;
  const sdJournal = () => (noLibsystemd ??= ctx.native?.journalLibrary?.() ?? "") === "";
  const cursorFile = config.cursor_file || join(ctx.stateDir, "journal.cursor");
  const stats = { entries: 0, cursor_errors: 0, reader_restarts: 0 };
  let cursor = "";
  let saved = "";
  let reader: JournalReaderHandle | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let started = "";

  const saveCursor = () => {
    timer = undefined;
    if (!cursor || cursor === saved) return;
    try {
      writeJournalCursor(cursorFile, cursor);
      saved = cursor;
    } catch (e) {
      stats.cursor_errors++;
      ctx.count("cursor_errors");
      ctx.log.once("cursor_write", `cannot write the cursor ${cursorFile}: ${(e as Error).message}`);
    }
  };

  const onRecords = (batch: JournalRecord[]) => {
    for (const rec of batch) {
      stats.entries++;
      ctx.count("entries");
      if (rec.cursor) cursor = rec.cursor;
      ctx.emit(rec);
    }
    if (cursor !== saved) timer ??= setTimeout(saveCursor, config.cursor_interval);
  };

  const open = (after: string, sinceUs: number) => {
    const native = config.reader === "journalctl" || (config.reader === "auto" && !sdJournal()) ? null : ctx.native;
    reader = openJournalReader(native, {
      daemons: config.daemons, namespace: config.namespace, directory: config.directory, cursor: after, sinceUs,
      pollMs: config.poll_interval, rootOnly: config.root_only, source: ctx.instance,
    }, onRecords);
  };

  const stop = () => {
    reader?.close();
    clearTimeout(timer);
    saveCursor();
  };

  return {
    start() {
      if (config.reader === "sd-journal" && !sdJournal()) throw new Error(`reader = "sd-journal": ${noLibsystemd}`);
      if (config.reader === "auto" && ctx.native?.JournalReader && !sdJournal()) ctx.log.info(`${noLibsystemd}: reading through journalctl`);
      const prev = config.from === "cursor" ? readJournalCursor(cursorFile) : "";
      cursor = saved = prev;
      started = prev ? "after the saved cursor" : config.from === "end" ? "end" : "this boot's start";
      open(prev, config.from === "end" ? 0 : bootTimeUs());
      ctx.log.info(`following the journal${config.namespace ? ` namespace ${config.namespace}` : ""} from ${started} (${reader!.kind} reader)`);
    },
    // A reader that fails (journalctl exits, sd_journal_next errs) is reopened after the last
    // entry handed over, with backoff: nothing is lost or repeated while the journal keeps it.
    async run() {
      ctx.ready();
      const aborted = new Promise<null>((resolve) => {
        if (ctx.signal.aborted) resolve(null);
        ctx.signal.addEventListener("abort", () => resolve(null), { once: true });
      });
      const backoff = new Backoff({ signal: ctx.signal });
      while (reader && !ctx.signal.aborted) {
        const at = stats.entries;
        const err = await Promise.race([reader.done, aborted]);
        if (!err || ctx.signal.aborted) break;
        reader.close();
        stats.reader_restarts++;
        ctx.count("reader_restarts");
        ctx.log.warn(`journal reader failed, reopening after the last entry: ${err}`);
        if (stats.entries > at) backoff.reset();
        if (!(await backoff.next())) break;
        open(cursor, cursor ? 0 : bootTimeUs());
      }
      stop();
    },
    close: stop,
    status: () => ({
      reader: reader?.kind ?? "not started", started, daemons: config.daemons, namespace: config.namespace,
      ...stats, cursor, cursor_file: cursorFile,
    }),
  };
}

export default definePlugin({
  kind: "sender",
  name: "journal",
  embeddedDefault: { order: 30, instance: "storage_daemons", needs: "journal" },
  description: "Follows the journal entries of userspace storage daemons (multipathd, dmeventd, mdadm, smartd, iscsid, nvme) from a cursor.",
  schema,
  sample,
  create: (config, ctx) => createJournalSender(config, ctx),
  replay: {
    input: "journal", decode: (data, _addon, note) => replayJournal(data, note),
    help: {
      order: 40,
      text: `journal entries as "journalctl -o export" or "journalctl -o json" print them;
only the storage daemons' entries (multipathd, dmeventd, lvm, mdadm, smartd,
iscsid, nvme, nvmf-autoconnect) are parsed, kernel-transport entries never`,
    },
  },
});
