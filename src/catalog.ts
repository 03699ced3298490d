// The event_type catalog: the types the core emits itself (daemon, receiver queues, the DRBD model)
// plus what every plugin declares in `emits`. docs/events.md and the journald MESSAGE_ID table are
// generated from it (`npm run docs`); test/catalog.test.ts checks the fixtures against it.
import { eventTypes, type AnyPluginDef, type EventTypeDecl } from "./plugin-api.ts";
import { SYSTEMS, type Severity, type System } from "./event.ts";

/** Keys the core may add to any event (the fold of repeated kernel messages). */
export const COMMON_EXTENSION: Readonly<Record<string, string>> = {
  repeat: "on the follow-up of folded kernel messages: how many identical ones came after the first within the window",
  first_event_id: "on that follow-up: the event_id of the first one (which went out at once)",
};

const DAEMON = eventTypes({
  version: "storeventd's version",
  pid: "the daemon's process id",
  addon: "true when the native addon is loaded (false: TypeScript fallback)",
  ok: "true when every start succeeded",
  started: "instances started",
  stopped: "instances stopped",
  kept: "instances kept running",
  failed: "instances whose start failed, with the reason",
  receiver: "the receiver instance",
  dropped: "events or updates dropped",
  reason: "queue_full or drbd_update_queue_full",
}, [
  { type: "DAEMON_STARTED", system: "daemon", severity: ["info"], doc: "the daemon started", keys: ["version", "pid", "addon"] },
  { type: "DAEMON_RELOADED", system: "daemon", severity: ["info", "error"], doc: "the config was reloaded", when: "info; error when a replacement failed to start (the old instance runs again)",
    keys: ["ok", "started", "stopped", "kept", "failed"] },
  { type: "DAEMON_STOPPING", system: "daemon", severity: ["info"], doc: "the daemon is stopping", keys: ["pid"] },
  { type: "RECEIVER_DROPPED", system: "daemon", severity: ["warn"], doc: "a receiver's queue was full: events (or DRBD model updates) were dropped",
    keys: ["receiver", "dropped", "reason"] },
]);

const RES = ["resource", "may_promote", "promotion_score"];
const VOL = ["resource", "volume", "minor", "backing_dev"];
const PEER = ["resource", "peer", "conn_name"];
const PEER_VOL = ["resource", "volume", "peer", "conn_name"];

const DRBD = eventTypes({
  resource: "the DRBD resource",
  volume: "the volume number",
  minor: "the device minor (drbdN)",
  backing_dev: "the backing device",
  peer: "the peer's node id",
  conn_name: "the connection's name (the peer's host name)",
  may_promote: "whether this node may be promoted now",
  promotion_score: "DRBD's promotion score",
  old_role: "role before", new_role: "role after",
  old_suspended: "suspension before", new_suspended: "suspension after (e.g. user, no-data, quorum)",
  old_disk_state: "disk state before", new_disk_state: "disk state after", client: "true for a diskless client",
  old_peer_disk_state: "peer disk state before", new_peer_disk_state: "peer disk state after", peer_client: "true for a diskless peer",
  old_quorum: "quorum before", new_quorum: "quorum after",
  old_connection_state: "connection state before", new_connection_state: "connection state after",
  old_replication_state: "replication state before", new_replication_state: "replication state after",
  out_of_sync: "KiB out of sync when the resync started",
  last_done: "percent done at the last update before it finished",
  helper: "the handler drbdsetup called (e.g. split-brain, fence-peer)",
  changes: "changes found by the resync of the state",
  resources: "resources in the model after it",
}, [
  { type: "DRBD_RESOURCE_CREATED", system: "drbd", severity: ["info"], doc: "a resource appeared", keys: [...RES, "new_role"] },
  { type: "DRBD_RESOURCE_DESTROYED", system: "drbd", severity: ["info"], doc: "a resource went away", keys: ["resource"] },
  { type: "DRBD_ROLE_CHANGED", system: "drbd", severity: ["info"], doc: "this node's role of a resource changed", keys: [...RES, "old_role", "new_role"] },
  { type: "DRBD_PEER_ROLE_CHANGED", system: "drbd", severity: ["info"], doc: "a peer became Primary or Secondary (its going Unknown is the connection's change)",
    keys: [...PEER, "old_role", "new_role"] },
  { type: "DRBD_SUSPENDED", system: "drbd", severity: ["error"], doc: "the resource suspended I/O", keys: [...RES, "old_suspended", "new_suspended"] },
  { type: "DRBD_RESUMED", system: "drbd", severity: ["info"], doc: "the resource resumed I/O", keys: [...RES, "old_suspended", "new_suspended"] },
  { type: "DRBD_DISK_STATE_CHANGED", system: "drbd", severity: ["info", "warn", "error"],
    doc: "a local DRBD disk changed state", when: "error for Failed, and Diskless unless a diskless client; info for UpToDate, Consistent, Attaching, Negotiating (and a client's Diskless); warn for the others (Inconsistent, Outdated, DUnknown, Detaching)",
    keys: [...VOL, "old_disk_state", "new_disk_state", "client"] },
  { type: "DRBD_QUORUM_LOST", system: "drbd", severity: ["error"], doc: "a volume lost quorum", keys: [...VOL, "old_quorum", "new_quorum"] },
  { type: "DRBD_QUORUM_REGAINED", system: "drbd", severity: ["info"], doc: "a volume regained quorum", keys: [...VOL, "old_quorum", "new_quorum"] },
  { type: "DRBD_CONNECTION_STATE_CHANGED", system: "drbd", severity: ["info", "warn", "error"],
    doc: "a DRBD connection changed state", when: "error for ProtocolError; warn for link failures and StandAlone; info for the others",
    keys: [...PEER, "old_connection_state", "new_connection_state"] },
  { type: "DRBD_REPLICATION_STATE_CHANGED", system: "drbd", severity: ["info", "warn"],
    doc: "replication to a peer changed state", when: "warn for Ahead, Behind and a resync left unfinished; info for the others",
    keys: [...PEER_VOL, "old_replication_state", "new_replication_state"] },
  { type: "DRBD_RESYNC_STARTED", system: "drbd", severity: ["info"], doc: "a resync with a peer started", keys: [...PEER_VOL, "old_replication_state", "new_replication_state", "out_of_sync"] },
  { type: "DRBD_RESYNC_DONE", system: "drbd", severity: ["info"], doc: "a resync with a peer finished", keys: [...PEER_VOL, "old_replication_state", "new_replication_state", "last_done"] },
  { type: "DRBD_PEER_DISK_STATE_CHANGED", system: "drbd", severity: ["info", "warn", "error"], doc: "a peer's DRBD disk changed state", when: "as DRBD_DISK_STATE_CHANGED: error for Failed, and Diskless unless a diskless client; info for UpToDate, Consistent, Attaching, Negotiating; warn for the others",
    keys: [...PEER_VOL, "old_peer_disk_state", "new_peer_disk_state", "peer_client"] },
  { type: "DRBD_SPLIT_BRAIN", system: "drbd", severity: ["error"], doc: "DRBD called a split-brain handler", keys: ["resource", "helper", "volume", "peer", "conn_name", "minor"] },
  { type: "DRBD_FENCE_PEER", system: "drbd", severity: ["warn"], doc: "DRBD called the fence-peer handler", keys: ["resource", "helper", "volume", "peer", "conn_name", "minor"] },
  { type: "DRBD_EVENTS_RESTARTED", system: "drbd", severity: ["warn"], doc: "drbdsetup events2 was restarted and the state resynchronized", keys: ["changes", "resources"] },
]);

/** The types the core emits, by area. */
export const CORE_EVENTS: readonly { origin: string; events: readonly EventTypeDecl[] }[] = [
  { origin: "core: daemon and router", events: DAEMON },
  { origin: "core: DRBD model", events: DRBD },
];

export interface CatalogEntry {
  type: string;
  system: System;
  severity: Severity[];
  /** One per origin ("parser scsi"): what happened, and when each severity. */
  docs: { origin: string; doc: string; when?: string }[];
  extension: Record<string, string>;
}

/** Every declared type, merged across origins (a type two plugins emit lists both), sorted by
 * system (in SYSTEMS order) then type. Throws when two declarations of one type disagree on the system. */
export function collectCatalog(plugins: readonly AnyPluginDef[]): CatalogEntry[] {
  const byType = new Map<string, CatalogEntry>();
  const add = (origin: string, d: EventTypeDecl) => {
    const e = byType.get(d.type) ?? { type: d.type, system: d.system, severity: [], docs: [], extension: {} };
    if (e.system !== d.system) throw new Error(`${d.type}: system ${d.system} (${origin}) differs from ${e.system} (${e.docs[0]?.origin})`);
    for (const s of d.severity) if (!e.severity.includes(s)) e.severity.push(s);
    e.docs.push({ origin, doc: d.doc, ...(d.when ? { when: d.when } : {}) });
    for (const [k, m] of Object.entries(d.extension)) e.extension[k] ??= m;
    byType.set(d.type, e);
  };
  for (const c of CORE_EVENTS) for (const d of c.events) add(c.origin, d);
  for (const p of plugins) for (const d of p.emits ?? []) add(`${p.kind} ${p.name}`, d);
  const rank = { info: 0, warn: 1, error: 2 };
  for (const e of byType.values()) e.severity.sort((a, b) => rank[a] - rank[b]);
  const sys = (s: string) => (SYSTEMS as readonly string[]).indexOf(s) >>> 0; // unknown systems last
  return [...byType.values()].sort((a, b) => sys(a.system) - sys(b.system) || a.type.localeCompare(b.type));
}
