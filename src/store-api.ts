// The query side of the event store: what the control API asks for and how a filter is matched.
// The store receiver (plugins/receiver/store) implements it; the live follow stream (src/control/) matches with it.
import { SEVERITY_RANK, type Severity, type StorageEvent } from "./event.ts";
import { serviceKey } from "./plugin-api.ts";

/** The key under which the running store offers itself in `Services` (see EventStoreService). */
export const STORE_SERVICE = serviceKey<EventStoreService>("store");

export interface EventFilter {
  /** Any of these systems. */
  system?: string[];
  /** This severity or worse (journalctl -p style). */
  severity?: Severity;
  /** Any of these event types. */
  event_type?: string[];
  /** Any of these kernel names (a /dev/ prefix is stripped). */
  dev_name?: string[];
  /** Any of these hosts (a fleet node stores every host's events). */
  hostname?: string[];
  /** Text anywhere in msg, raw, dev_name, event_type or hostname (case-insensitive). */
  text?: string;
}

export interface EventQuery extends EventFilter {
  /** Inclusive lower bound, µs since the epoch. */
  since_us?: number;
  /** Exclusive upper bound, µs since the epoch. */
  until_us?: number;
  /** At most this many events; with order "asc" the oldest, with "desc" the newest. */
  limit?: number;
  order?: "asc" | "desc";
  /** Keyset paging: only events after this position in `order` (from a previous page). */
  after?: StoreCursor;
}

/** A position in the store: the event's time and its insertion sequence number (ties on time). */
export interface StoreCursor {
  time_us: number;
  seq: number;
}

export interface StoredEvent {
  seq: number;
  time_us: number;
  event: StorageEvent;
}

export interface StoreStats {
  path: string;
  events: number;
  /** Bytes on disk: the database file plus its WAL. */
  bytes: number;
  oldest?: string;
  newest?: string;
  pending: number;
  flushes: number;
  written: number;
  pruned_age: number;
  pruned_size: number;
  write_errors: number;
  /** The last write failure (e.g. "database or disk is full"), kept after writing recovers;
   * `failing` says whether the latest flush failed. */
  last_error?: string;
  last_error_at?: string;
  failing?: boolean;
}

/** What the store receiver provides under STORE_SERVICE for the control API. */
export interface EventStoreService {
  query(q: EventQuery): StoredEvent[];
  /** Writes what is buffered now (a query right after sees every event the store has received). */
  flush(): void;
  stats(): StoreStats;
}

export function matchesFilter(e: StorageEvent, f: EventFilter): boolean {
  if (f.system && !f.system.includes(e.system)) return false;
  if (f.severity && SEVERITY_RANK[e.severity] < SEVERITY_RANK[f.severity]) return false;
  if (f.event_type && !f.event_type.includes(e.event_type)) return false;
  if (f.dev_name && !f.dev_name.includes(e.dev_name)) return false;
  if (f.hostname && !f.hostname.includes(e.hostname)) return false;
  if (f.text !== undefined && !matchesText(e, f.text)) return false;
  return true;
}

const TEXT_FIELDS = ["msg", "raw", "dev_name", "event_type", "hostname"] as const;

export function matchesText(e: StorageEvent, text: string): boolean {
  const t = text.toLowerCase();
  return TEXT_FIELDS.some((k) => e[k].toLowerCase().includes(t));
}

export function hasFilter(f: EventFilter): boolean {
  return Boolean(f.system || f.severity || f.event_type || f.dev_name || f.hostname || f.text !== undefined);
}
