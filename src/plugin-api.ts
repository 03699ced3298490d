// The only module plugins import from the core (besides src/event.ts and src/records.ts types).
// A plugin is one folder plugins/<kind>/<name>/ whose index.ts default-exports definePlugin({...}).
import type * as v from "valibot";
import type { EventDraft, Owner, Severity, StorageEvent, System } from "./event.ts";
import type { Events2FastApply } from "./drbd/events2.ts";
import type { KmsgRecord, RawRecord, RecordKind } from "./records.ts";
import type { NativeAddon } from "./native.ts";

export type { EventDraft, StorageEvent, Owner, Severity, System } from "./event.ts";
export type { RawRecord, RecordKind, KmsgRecord, UeventRecord, Events2Record, JournalRecord } from "./records.ts";
export type { NativeAddon } from "./native.ts";

export type PluginKind = "sender" | "parser" | "receiver";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A warning rate-limited per `kind`: at most one a minute, the next one after that says how many
   * were suppressed ("… (37 similar messages suppressed in the last 60 s)"). For reports that can
   * repeat: bad input, failed sends. (The name is historical.) */
  once(kind: string, msg: string, fields?: Record<string, unknown>): void;
}

/** What is known of a device; lookups never throw and keep dev_name for vanished devices. */
export interface DeviceIdentity {
  dev_name: string;
  dev_path: string;
  dev_wwid: string;
  owners: Owner[];
}

export interface DeviceDirectory {
  /** name may be sdb, sdb1, dm-3, nvme0n1, md0, 8:16, /dev/sdb, "2:0:0:1" (SCSI address). */
  identify(name: string): DeviceIdentity;
  /** Mount point and fs type of a block device, when mounted. */
  mountOf?(devName: string): { mount_point: string; fs_type: string } | undefined;
}

/** A typed key into Services: the value's type travels with the key, so get() needs no cast. */
export interface ServiceKey<T> {
  readonly name: string;
  /** Phantom: never set, only carries T. */
  readonly __type?: T;
}

export function serviceKey<T>(name: string): ServiceKey<T> {
  return { name };
}

/** Shared, typed services between plugins and the core (the DRBD model, the device inventory). */
export interface Services {
  /** undefined withdraws the service. */
  provide<T>(key: ServiceKey<T>, value: T | undefined): void;
  get<T>(key: ServiceKey<T>): T | undefined;
}

export interface BaseContext {
  instance: string;
  plugin: string;
  hostname: string;
  stateDir: string;
  log: Logger;
  /** Adds n to this instance's counter `name` (shown by status and /metrics). */
  count(name: string, n?: number): void;
  native: NativeAddon | null;
  devices: DeviceDirectory;
  services: Services;
  /** This instance's [queue] settings: a receiver's event queue, and a DRBD model subscriber's
   * update queue (pass the context as `owner` to DrbdModel.subscribe). */
  queue?: { max_events: number; when_full: "drop_oldest" | "drop_newest"; batch: number };
  /** Aborted when the instance is stopped (shutdown or reload removed/changed it). */
  signal: AbortSignal;
  /** A typed event straight into the router (daemon-level events, DRBD model changes, promoter). */
  emitEvent(draft: EventDraft): void;
}

export interface SenderContext extends BaseContext {
  /** A raw record into the parsers. */
  emit(rec: RawRecord): void;
  /** The initial state is read (kmsg open, DRBD dump done): counts toward sd_notify READY. */
  ready(): void;
  /** The DRBD model's fast lane for native events2 batches (src/drbd/fast.ts), when no parser
   * needs every record: `apply` takes a statistics line or refuses it (then emit() it); `taken(n)`
   * counts what it took. Absent or null: emit every record. */
  events2Fast?(): { apply: Events2FastApply; taken(n: number): void } | null;
  /** A complete event from another host (a fleet node's nats sender), delivered unchanged: its
   * event_id, time and hostname stay; no fold (its origin folded it already). */
  inject(e: StorageEvent): void;
  /** Resolves once every receiver has handled (sent, failed or dropped) each event delivered so
   * far, or after timeoutMs: a sender acknowledges its source only then. */
  delivered(timeoutMs: number): Promise<void>;
  /** The lowest seq of this sender's kmsg records that a parser still holds (not yet an event):
   * a cursor must stay before it. undefined when nothing of this sender is held. */
  oldestHeld?(): number | undefined;
}

export interface ParserContext extends BaseContext {
  /** [main] hold_max in ms: a multi-record report goes out at its closing record or at most this
   * long after its last record (SPEC §2). */
  holdMaxMs: number;
  /** Ms for hold and join timers: replay, the time of the latest record (the output must not depend
   * on how fast the input is read); live, a monotonic clock. */
  clock(): number;
}
export type ReceiverContext = BaseContext;

/** Every instance: create() builds it inert (no port, file, unit, process or timer); start()
 * acquires those; close() releases them, also for an instance never started (a rolled-back reload).
 * Reload builds replacements inert, stops the changed ones, then starts the replacements; when a
 * replacement's start throws, it is closed and the old config is built and started again. */
export interface Lifecycle {
  /** Acquire ports, files, units, processes, timers. A throw fails this instance's start. */
  start?(): Promise<void> | void;
}

export interface Sender extends Lifecycle {
  /** Runs until ctx.signal aborts or the source ends for good; resolves then. */
  run(): Promise<void>;
  close?(): Promise<void> | void;
  status?(): Record<string, unknown>;
}

export interface Parser extends Lifecycle {
  accepts: readonly RecordKind[];
  parse(rec: RawRecord, emit: (draft: EventDraft) => void): void;
  /** A kmsg record whose message the pipeline already guarded (kernelMsg() once for all parsers):
   * the same as parse(rec, emit) for such a record, without guarding it again. */
  parseGuarded?(rec: KmsgRecord, msg: string, emit: (draft: EventDraft) => void): void;
  /** Releases held multi-record reports that are due (all of them when final: end of input or stop).
   * Live, the pipeline calls it when nextFlushIn() says so (one timer on the earliest deadline of all
   * parsers); a parser without nextFlushIn() is flushed every 250 ms. */
  flush?(emit: (draft: EventDraft) => void, final: boolean): void;
  /** Ms until flush(emit, false) has something to release (<= 0: now); undefined when nothing is held. */
  nextFlushIn?(): number | undefined;
  /** The lowest seq of a held (not yet emitted) kmsg record of sender `source`: that sender's cursor
   * stays before it, so a crash loses no held report. undefined when none is held. */
  oldestHeld?(source: string): number | undefined;
}

export interface Receiver extends Lifecycle {
  send(events: readonly StorageEvent[]): Promise<void> | void;
  /** SIGHUP: reopen files (logrotate). */
  reopen?(): Promise<void> | void;
  /** Makes what send() accepted durable now (a fleet node acks its source only after this). */
  sync?(): Promise<void> | void;
  close?(): Promise<void> | void;
  status?(): Record<string, unknown>;
}

interface InstanceOf {
  sender: Sender;
  parser: Parser;
  receiver: Receiver;
}
interface ContextOf {
  sender: SenderContext;
  parser: ParserContext;
  receiver: ReceiverContext;
}

/** One event_type a plugin can emit. docs/events.md and the journald MESSAGE_ID table are generated
 * from these (`npm run docs`); test/catalog.test.ts checks every fixture event against them. */
export interface EventTypeDecl {
  type: string;
  system: System;
  /** Every severity it can carry. */
  severity: readonly Severity[];
  /** One line: what happened. */
  doc: string;
  /** With several severities: when each (every one of them named). */
  when?: string;
  /** The extension keys it may set, each with a one-line meaning. */
  extension: Readonly<Record<string, string>>;
}

/** Declarations from one table of key meanings: `keys` pick from `fields` (a missing meaning is
 * left empty, which test/catalog.test.ts reports). */
export function eventTypes(
  fields: Readonly<Record<string, string>>,
  rows: readonly { type: string; system: System; severity: readonly Severity[]; doc: string; when?: string; keys?: readonly string[] }[],
): EventTypeDecl[] {
  return rows.map(({ keys = [], ...r }) => ({ ...r, extension: Object.fromEntries(keys.map((k) => [k, fields[k] ?? ""])) }));
}

export interface PluginDef<K extends PluginKind = PluginKind, S extends v.GenericSchema = v.GenericSchema> {
  kind: K;
  name: string;
  description: string;
  /** One valibot object schema; v.description() on each key is the option's doc. */
  schema: S;
  /** The event types this plugin can emit (parsers, senders, and receivers that emit). */
  emits?: readonly EventTypeDecl[];
  /** The plugin's sample.toml text (imported with { type: "text" }). */
  sample?: string;
  /** Checks across options that a schema cannot express (option pairs, files that must be
   * readable, a program that must exist); throws Error with the reason. No side effects: `check`
   * and reload run it too. */
  validate?(config: v.InferOutput<S>, env: { hostname: string }): void;
  /** Builds an inert instance; a throw here is a config error (exit 2). No side effects: ports,
   * files, units, processes and timers are acquired in the instance's start(). */
  create(config: v.InferOutput<S>, ctx: ContextOf[K]): InstanceOf[K] | Promise<InstanceOf[K]>;
  /** Senders of kernel-log records: events made from their records fold identical repeats
   * within [main] dedup_window (SPEC §2), whatever the instance is called. */
  foldRepeats?: boolean;
  /** drbd-reactor compatibility: the [[table]] array whose entries become instances of this receiver. */
  reactorTable?: string;
  /** Record kinds this plugin needs a sender of: with none configured, a sender that declares
   * impliedFor one of them is added (drbd-reactor's single events2 source). */
  needs?: readonly RecordKind[];
  /** Senders: added under their own name when a configured plugin needs one of these record kinds
   * and no instance of this sender is configured. */
  impliedFor?: readonly RecordKind[];
  /** Senders: drbd-reactor top-level keys (e.g. statistics-poll-interval) this sender's instances
   * inherit when they do not set the option themselves. */
  reactorOptions?: readonly string[];
  /** `storeventd <name> ...` commands this plugin adds (the CLI lists them after its own). */
  commands?: Readonly<Record<string, CliCommand>>;
  /** Control API routes this plugin adds; the control socket and the web listener mount them. */
  routes?: readonly RouteContribution[];
  /** Senders: `storeventd replay --<input> FILE` decodes a whole capture with the sender's own reader. */
  replay?: ReplayInput;
  /** Its instance in the embedded default config (used without a config file, SPEC §3). */
  embeddedDefault?: EmbeddedDefault;
  /** drbd-reactor plugins (reactorTable): what `storeventd ctl` / drbd-reactorctl knows of a snippet's entries. */
  ctl?: CtlSnippet;
}

/** What the embedded default depends on beyond the registry (tests fix it; the host is not theirs). */
export interface HostFacts {
  /** journald runs (its socket). */
  journald: boolean;
  /** A journal to read (the socket or /var/log/journal). */
  journal: boolean;
  /** drbdsetup is on PATH. */
  drbdsetup: boolean;
}

export interface EmbeddedDefault {
  /** Place among the default's instances (senders 10-49, receivers 50-). */
  order: number;
  /** The instance's name (default: the plugin's). */
  instance?: string;
  /** Added only when the host has this. */
  needs?: keyof HostFacts;
  /** Of the plugins sharing a slot, only the first (by order) that can be added is (e.g. the output:
   * the journal when journald runs, else stdout). */
  slot?: string;
}

export interface CtlSnippet {
  /** drbd-reactorctl's order of the plugin kinds in `ls` and `status`. */
  order: number;
  /** One [[table]] entry as ctl works with it (defaults filled in); default: as written. */
  read?(entry: Record<string, unknown>): Record<string, unknown>;
  /** `ctl edit --type <table>`: the text a new snippet starts from. */
  template?: string;
  /** `ctl status` (its `--json` key) and `ctl ls` lines of this table's entries. */
  status?: CtlStatus;
  /** `disable --now` / `restart --with-targets`: stop what an entry runs (the promoter: its targets). */
  stop?(entry: Record<string, unknown>): void;
  /** `ctl edit`: a check beyond the schema; an error message, or undefined (`force` may turn it into a warning). */
  checkEdit?(entry: Record<string, unknown>, force: boolean, warn: (s: string) => void): string | undefined;
  /** ctl verbs this table owns (drbd-reactorctl's evict and start-until belong to the promoter). */
  verbs?: Readonly<Record<string, (c: CtlVerbContext) => Promise<void> | void>>;
}

/** Where a ctl status item comes from. */
export interface CtlAt {
  path: string;
  enabled: boolean;
  /** `status --resource`: only these (none: all). */
  resources: readonly string[];
}

export interface CtlPaint {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  bold(s: string): string;
}

export interface CtlStatus<T = any> {
  /** Its array's key in `status --json` (present even when empty). */
  key: string;
  items(entry: Record<string, unknown>, at: CtlAt): T[];
  /** The item as `--json` shows it (default: as it is). */
  json?(item: T): unknown;
  /** Its block in `ctl status`. */
  text(item: T, verbose: boolean, paint: CtlPaint): Promise<string> | string;
  /** Its lines in `ctl ls`. */
  ls(entry: Record<string, unknown>, enabled: boolean): string[];
}

/** What a contributed ctl verb gets: its parsed command line and ctl's snippet handling. */
export interface CtlVerbContext {
  args: string[];
  flags: Readonly<Record<string, string | boolean | string[]>>;
  /** "drbd-reactorctl" or "storeventd ctl". */
  self: string;
  out(s: string): void;
  err(s: string): void;
  warn(s: string): void;
  info(s: string): void;
  /** A usage error (exit 2, or 1 as drbd-reactorctl). */
  usage(message: string): never;
  /** The named (or all) snippets of a state, invalid ones reported and dropped. */
  pick(configs: string[] | undefined, state: "enabled" | "disabled", mustExist: boolean): string[];
  /** The paths that exist; each missing one is warned about when its turn comes. */
  existing(paths: string[]): Iterable<string>;
  /** A snippet's entries of the verb's table (as read) and how many plugins it declares in all. */
  read(path: string): { entries: Record<string, unknown>[]; plugins: number };
}

export interface ReplayInput {
  /** The replay option's name (e.g. "uevent"). */
  input: string;
  /** Each record, with the events the live sender itself would emit for it (emitted under the plugin's name);
   * `note` puts a line on replay's stderr (e.g. how many entries the sender would not read). */
  decode?(data: Uint8Array, addon: NativeAddon | null, note: (line: string) => void): Iterable<{ rec: RawRecord; drafts: EventDraft[] }>;
  /** Instead of decode(), for a reader whose state spans pieces (udev: the SEQNUM window and the
   * inventory built from the uevents): called once per replay, it returns the decode of one piece. */
  decoder?(addon: NativeAddon | null, note: (line: string) => void): (data: Uint8Array) => Iterable<{ rec: RawRecord; drafts: EventDraft[] }>;
  /** Set for inputs that may be large (a kernel log, a uevent capture): replay then streams the input
   * and decodes one piece of whole records at a time, where a piece of buf[0, len) may end as this says. */
  cut?: (buf: Uint8Array, len: number) => number;
  /** Instead of decode(): the sender reads the input itself, streamed, as it reads live (events2:
   * the native reader thread on a file, the model's fast lane). Resolves at the input's end. */
  stream?(src: ReplaySource): Promise<void>;
  /** `replay --help`: what FILE may hold (lines of at most 80 columns with the option's 19), and the
   * input's place in the list. */
  help?: { order: number; text: string };
}

/** What replay hands a sender's stream(): the input and the pipeline's doors. */
export interface ReplaySource {
  addon: NativeAddon | null;
  /** The input's fd for a reader thread of the sender's own (a regular file), else null: use pieces(). */
  takeFd(): number | null;
  /** The input in pieces of whole records, where a piece of buf[0, len) may end as `cut` says. */
  pieces(cut: (buf: Uint8Array, len: number) => number): Iterable<Uint8Array>;
  /** One record into the parsers, as a live sender's emit(). */
  emit(rec: RawRecord): void;
  /** As SenderContext.events2Fast; taken(n) also counts n records. */
  events2Fast(): { apply: Events2FastApply; taken(n: number): void } | null;
  /** Progress: called after each batch or piece. */
  tick(): void;
}

/** Terminal I/O of a contributed CLI command. */
export interface CliIo {
  out(s: string): void;
  err(s: string): void;
  isTTY: boolean;
}

export interface CliCommand {
  summary: string;
  /** In `storeventd --help`, listed right after this command (default: last). */
  after?: string;
  /** Exit status: 0 ok, 1 runtime failure, 2 usage error. */
  run(argv: string[], io: CliIo): Promise<number>;
}

export interface RouteContribution {
  /** "/v1/promoter": this path and every path below it. */
  prefix: string;
  /** Gets the request with an absolute URL; undefined falls through to the server's 404. */
  handle(req: Request, services: Services): Promise<Response> | undefined;
}

/** The routes of these plugins whose prefix covers path. */
export function routesFor(defs: readonly AnyPluginDef[], path: string): RouteContribution[] {
  return defs.flatMap((d) => d.routes ?? []).filter((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
}

export type AnyPluginDef = PluginDef<PluginKind, v.GenericSchema>;

export function definePlugin<K extends PluginKind, S extends v.GenericSchema>(def: PluginDef<K, S>): PluginDef<K, S> {
  return def;
}

export type { StorageEvent as Event };
export type { v };
/** Schema for duration options ("250ms", "5s", "1m", or bare seconds); outputs milliseconds. */
export { Duration } from "./config/schema.ts";
/** The /proc/self/mountinfo parser (pure). */
export { parseMountinfo, unescapeMountField, type MountEntry } from "./util/mountinfo.ts";
