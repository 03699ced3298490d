// Follows the journal for the daemons' entries: the addon's sd-journal thread when the addon was
// built with libsystemd, else a `journalctl --follow -o export` child decoded in TypeScript. Both
// hand over JournalRecords in batches; kernel-transport entries never come out of either.
import type { NativeAddon, BatchCallback } from "../native.ts";
import type { JournalRecord } from "../records.ts";
import { ExportDecoder, entryDaemon, journalRecord, RECORD_FIELDS } from "./decode.ts";

export interface JournalReaderOptions {
  daemons: readonly string[];
  /** A journal namespace (journald@NS); "" = the default journal. */
  namespace: string;
  /** Read this journal directory instead of the local journal ("" = local). */
  directory: string;
  /** Resume after this entry. */
  cursor: string;
  /** Without a cursor: start at this wall-clock µs; 0 = only entries written from now on. */
  sinceUs: number;
  source: string;
  /** sd-journal reader: look for new entries this often (ms; 0 = only on journald's wake-ups, every 250 ms). */
  pollMs?: number;
  /** Only entries of processes running as root (_UID=0, set by journald; clients cannot forge it). Default true. */
  rootOnly?: boolean;
  /** The journalctl program of the fallback. */
  journalctl?: string;
}

export interface JournalReaderHandle {
  readonly kind: "sd-journal" | "journalctl";
  /** Resolves when the reader ends for good (an error) with the error, or null when closed. */
  done: Promise<string | null>;
  close(): void;
}

type Sink = (records: JournalRecord[]) => void;

export function hasNativeJournal(addon: NativeAddon | null): boolean {
  return typeof addon?.JournalReader === "function";
}

export function openJournalReader(addon: NativeAddon | null, opts: JournalReaderOptions, sink: Sink): JournalReaderHandle {
  return addon && hasNativeJournal(addon) ? openNative(addon, opts, sink) : openJournalctl(opts, sink);
}

function openNative(addon: NativeAddon, opts: JournalReaderOptions, sink: Sink): JournalReaderHandle {
  const reader = new addon.JournalReader!({
    daemons: [...opts.daemons], namespace: opts.namespace, directory: opts.directory, cursor: opts.cursor, sinceUs: opts.sinceUs,
    pollMs: opts.pollMs ?? 10, rootOnly: opts.rootOnly ?? true,
  });
  const wanted = new Set(opts.daemons);
  let finish: (err: string | null) => void = () => {};
  const done = new Promise<string | null>((resolve) => (finish = resolve));
  const cb: BatchCallback = (bytes, ends, nums, _lost, error) => {
    const out: JournalRecord[] = [];
    let start = 0;
    const next = () => {
      const s = bytes.toString("utf8", start, ends[i]!);
      start = ends[i++]!;
      return s;
    };
    let i = 0;
    for (let r = 0; i + 5 <= ends.length; r++) {
      const cursor = next();
      const ident = next();
      const transport = next();
      const msg = next().replace(/\n+$/, "");
      const comm = next();
      const daemon = wanted.has(ident) ? ident : comm;
      const pid = nums[r * 3 + 1]!;
      out.push({
        kind: "journal", source: opts.source, daemon, priority: nums[r * 3]!, pid, transport, cursor, msg,
        time_us: nums[r * 3 + 2]! || undefined, raw: `${daemon}${pid > 0 ? `[${pid}]` : ""}: ${msg}`,
      });
    }
    if (out.length) sink(out);
    if (error !== null) finish(error);
  };
  reader.start(cb);
  return {
    kind: "sd-journal",
    done,
    close() {
      reader.close();
      finish(null);
    },
  };
}

/** The journalctl command line of the fallback (exported for tests). */
export function journalctlArgs(opts: JournalReaderOptions): string[] {
  const args = [opts.journalctl ?? "journalctl", "--follow", "--output=export", "--all", "--no-pager"];
  if (opts.namespace) args.push(`--namespace=${opts.namespace}`);
  if (opts.directory) args.push(`--directory=${opts.directory}`);
  if (opts.cursor) args.push(`--after-cursor=${opts.cursor}`, "--lines=all");
  else if (opts.sinceUs > 0) args.push(`--since=@${Math.floor(opts.sinceUs / 1e6)}`, "--lines=all");
  else args.push("--lines=0");
  const uid = opts.rootOnly ?? true ? ["_UID=0"] : [];
  for (const d of opts.daemons) args.push(`SYSLOG_IDENTIFIER=${d}`);
  args.push(...uid, "+");
  for (const d of opts.daemons) args.push(`_COMM=${d}`);
  args.push(...uid);
  return args;
}

function openJournalctl(opts: JournalReaderOptions, sink: Sink): JournalReaderHandle {
  const wanted = new Set(opts.daemons);
  const proc = Bun.spawn(journalctlArgs(opts), { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  let closed = false;
  let errTail = "";
  void (async () => { // drained as it comes: a full stderr pipe would stall journalctl
    for await (const c of proc.stderr) errTail = (errTail + new TextDecoder().decode(c)).slice(-2000);
  })().catch(() => {});
  const decoder = new ExportDecoder(RECORD_FIELDS);
  const pump = async (): Promise<string | null> => {
    const sinceUs = opts.cursor ? 0 : opts.sinceUs;
    for await (const chunk of proc.stdout) {
      const out: JournalRecord[] = [];
      for (const f of decoder.push(chunk)) {
        const daemon = entryDaemon(f, wanted);
        const rt = Number(f.__REALTIME_TIMESTAMP);
        // --since has second resolution: drop what precedes the exact start.
        if (daemon && !(sinceUs > 0 && rt < sinceUs)) out.push(journalRecord(f, daemon, opts.source));
      }
      if (out.length) sink(out);
    }
    const code = await proc.exited;
    if (closed) return null;
    await Bun.sleep(10);
    const err = errTail.trim().split("\n").pop() ?? "";
    return `journalctl exited with ${code}${err ? `: ${err}` : ""}`;
  };
  const done = pump().catch((e) => (closed ? null : String(e)));
  return {
    kind: "journalctl",
    done,
    close() {
      closed = true;
      proc.kill("SIGTERM");
    },
  };
}
