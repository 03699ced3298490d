// Schemas of the core's own config: [main], the keys every plugin instance has (type, plugin,
// filter, queue), and drbd-reactor's top-level keys. Plugin options are validated by each
// plugin's own schema.
import * as v from "valibot";
import { SEVERITIES, SYSTEMS } from "../event.ts";
import { parseDuration } from "../util/duration.ts";
import { isLoopback, parseListen } from "../web/address.ts";

/** The one duration schema (core and plugins): "250ms", "5s", "1h30m", "30d" or seconds; outputs milliseconds. */
export const Duration = v.pipe(
  v.union([v.string(), v.number()]),
  v.check((x) => parseDuration(x) !== undefined, 'expected a duration like "250ms", "5s", "1m", "30d" or a number of seconds'),
  v.transform((x) => parseDuration(x)!),
);

const oneOrMany = <T extends v.GenericSchema>(item: T) =>
  v.pipe(v.union([item, v.array(item)]), v.transform((x) => (Array.isArray(x) ? x : [x]) as v.InferOutput<T>[]));

export const FilterSchema = v.strictObject({
  severity: v.pipe(v.optional(oneOrMany(v.picklist(SEVERITIES))), v.description("Only these severities.")),
  min_severity: v.pipe(v.optional(v.picklist(SEVERITIES)), v.description("Only this severity or worse.")),
  system: v.pipe(v.optional(oneOrMany(v.picklist(SYSTEMS))), v.description("Only these subsystems.")),
  event_type: v.pipe(v.optional(oneOrMany(v.string())), v.description("Only these event types (globs: DRBD_*).")),
  dev_name: v.pipe(v.optional(oneOrMany(v.string())), v.description("Only these devices (globs: sd*, dm-*).")),
  source: v.pipe(v.optional(oneOrMany(v.string())), v.description("Only events from these senders.")),
});
export type FilterConfig = v.InferOutput<typeof FilterSchema>;

export const QueueSchema = v.strictObject({
  max_events: v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1000), v.description("Queue bound.")),
  when_full: v.pipe(
    v.optional(v.picklist(["drop_oldest", "drop_newest"]), "drop_oldest"),
    v.description("Which event is dropped (and counted) when the queue is full."),
  ),
  batch: v.pipe(v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 100), v.description("Events per send().")),
});
export type QueueConfig = v.InferOutput<typeof QueueSchema>;

export const COMMON_KEYS = ["type", "plugin", "filter", "queue"] as const;

export const CommonSchema = v.object({
  type: v.pipe(v.optional(v.picklist(["sender", "parser", "receiver"])), v.description("The plugin's kind; may be left out when the plugin name is unambiguous.")),
  plugin: v.pipe(
    v.optional(v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_-]*$/, "expected a plugin name"))),
    v.description("The plugin (default: the table's name)."),
  ),
  filter: v.pipe(v.optional(FilterSchema), v.description("Which events this instance takes (the keys below, combined with AND).")),
  queue: v.pipe(v.optional(QueueSchema, {}), v.description("A receiver's bounded event queue (and a DRBD model subscriber's update queue).")),
});

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "off"] as const;

export const MainSchema = v.strictObject({
  hostname: v.pipe(v.optional(v.pipe(v.string(), v.minLength(1))), v.description("Host name in events (default: the host name).")),
  state_dir: v.pipe(v.optional(v.string(), "/var/lib/storeventd"), v.description("Store, kmsg cursor, extracted addon.")),
  control_socket: v.pipe(v.optional(v.string(), "/run/storeventd/control.sock"), v.description("Control API unix socket.")),
  control_group: v.pipe(v.optional(v.string()), v.description("Group owning the control socket (mode 0660).")),
  listen: v.pipe(v.optional(v.string()), v.description('Optional TCP listener for the web console, /metrics and WebSocket events ("127.0.0.1:9911"; a bare port binds 127.0.0.1). Beyond loopback it needs tls_cert, tls_key and token_file.')),
  tls_cert: v.pipe(v.optional(v.string()), v.description("PEM certificate (chain) for the listener: it then speaks HTTPS/WSS. With tls_key.")),
  tls_key: v.pipe(v.optional(v.string()), v.description("PEM private key for tls_cert.")),
  token_file: v.pipe(v.optional(v.string()), v.description("File whose first line is the listener's access token (Authorization: Bearer, or the /login form). Required beyond loopback.")),
  hold_max: v.pipe(v.optional(Duration, "250ms"), v.description("A kernel report split over several records goes out at its closing record or at most this long after its last record (parsers' own hold options default to it).")),
  dedup_window: v.pipe(v.optional(Duration, "5s"), v.description("The first kernel message goes out at once; identical repeats within this window become one follow-up event with their count (0 = off).")),
  snippets: v.pipe(v.optional(v.string()), v.description("Directory of *.toml snippets (default: conf.d/ beside the config).")),
  log_level: v.pipe(v.optional(v.picklist(LOG_LEVELS), "info"), v.description("The daemon's own log level.")),
  shutdown_timeout: v.pipe(v.optional(Duration, "10s"), v.description("How long stop waits for receivers to drain.")),
});
export type MainConfig = v.InferOutput<typeof MainSchema>;

/** Rules across [main] keys: a listener beyond loopback needs TLS and an access token. */
export function mainIssues(m: MainConfig): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  if ((m.tls_cert === undefined) !== (m.tls_key === undefined)) out.push({ key: m.tls_cert ? "tls_key" : "tls_cert", message: "tls_cert and tls_key go together" });
  if (!m.listen) return out;
  let host: string;
  try {
    host = parseListen(m.listen).hostname;
  } catch (e) {
    return [...out, { key: "listen", message: (e as Error).message }];
  }
  if (!isLoopback(host)) {
    if (!m.tls_cert) out.push({ key: "listen", message: `${m.listen} is reachable beyond this host: set tls_cert and tls_key (HTTPS)` });
    if (!m.token_file) out.push({ key: "listen", message: `${m.listen} is reachable beyond this host: set token_file (access token)` });
  }
  return out;
}

// drbd-reactor's [[log]]: several loggers, each a level and stderr or a file; any replaces the default log.
export const DrbdReactorLogSchema = v.strictObject({
  level: v.pipe(v.optional(v.picklist(LOG_LEVELS), "info"), v.description("lowest level this logger writes")),
  file: v.pipe(v.optional(v.string()), v.description("append to this file (default: stderr); reopened on SIGHUP")),
});

/** drbd-reactor's own array-of-tables plugin sections (its config format, not ours): the receiver that
 * declares reactorTable = the name takes them; without one, [[name]] is "not supported yet". */
export const DRBD_REACTOR_TABLES: readonly string[] = ["umh", "debugger", "prometheus", "promoter", "agentx"];
