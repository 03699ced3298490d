// iSCSI initiator transport messages -> ISCSI_* events.
import type { EventDraft, KmsgRecord } from "../../../src/plugin-api.ts";
import { PatternTable, decNum, fromRecord, lineParser, minSeq, type KPattern, type KmsgParserState } from "../../../src/plugin-kit/kernel.ts";

// iscsi_cls_conn_printk / iscsi_cls_session_printk are dev_printk on the transport class device:
// its driver string is empty, so the record starts with a space (" connection1:0: ...").
export type IscsiPatternId = "ping_timeout" | "conn_error" | "recovery_timeout";

export const ISCSI_PATTERNS: readonly KPattern<IscsiPatternId>[] = [
  {
    id: "ping_timeout", needle: "ping timeout of ",
    re: /^ ?(?:[a-z_]{1,24} )?(?<conn>connection(?<sid>\d{1,10}):(?<cid>\d{1,10})): ping timeout of (?<secs>\d{1,10}) secs expired, recv timeout (?<recv>\d{1,10}), last rx (?<rx>\d{1,20}), last ping (?<ping>\d{1,20}), now (?<now>\d{1,20})$/,
    source: "drivers/scsi/libiscsi.c (iscsi_check_transport_timeouts, 3.10 .. 6.x), then iscsi_conn_failure(): \"detected conn error\"",
    format: `iscsi_conn_printk(KERN_ERR, conn, "ping timeout of %d secs expired, recv timeout %d, last rx %lu, last ping %lu, now %lu\\n", ...)`,
  },
  {
    id: "conn_error", needle: "detected conn error (",
    re: /^ ?(?:[a-z_]{1,24} )?(?<conn>connection(?<sid>\d{1,10}):(?<cid>\d{1,10})): detected conn error \((?<err>-?\d{1,6})\)$/,
    source: "drivers/scsi/scsi_transport_iscsi.c (iscsi_conn_error_event)",
    format: `iscsi_cls_conn_printk(KERN_INFO, conn, "detected conn error (%d)\\n", error)`,
  },
  {
    id: "recovery_timeout", needle: "session recovery timed out after ",
    re: /^ ?(?:[a-z_]{1,24} )?(?<sess>session(?<sid>\d{1,10})): session recovery timed out after (?<secs>\d{1,10}) secs$/,
    source: "drivers/scsi/scsi_transport_iscsi.c (session_recovery_timedout)",
    format: `iscsi_cls_session_printk(KERN_INFO, session, "session recovery timed out after %d secs\\n", session->recovery_tmo)`,
  },
];

/** The first non-space character: "c"onnection, "s"ession, or a class name ("i"scsi_...). */
function iscsiGate(msg: string): boolean {
  const c = msg.charCodeAt(msg.charCodeAt(0) === 32 ? 1 : 0);
  return c === 99 || c === 115 || c === 105;
}

export const ISCSI_TABLE = new PatternTable<IscsiPatternId>(ISCSI_PATTERNS, iscsiGate);

/** enum iscsi_err of include/scsi/iscsi_if.h (ISCSI_ERR_BASE 1000 + n). */
const ISCSI_ERR: readonly string[] = [
  "OK", "DATASN", "DATA_OFFSET", "MAX_CMDSN", "EXP_CMDSN", "BAD_OPCODE", "DATALEN", "AHSLEN", "PROTO", "LUN",
  "BAD_ITT", "CONN_FAILED", "R2TSN", "SESSION_FAILED", "HDR_DGST", "DATA_DGST", "PARAM_NOT_FOUND", "NO_SCSI_CMD",
  "INVALID_HOST", "XMIT_FAILED", "TCP_CONN_CLOSE", "SCSI_EH_SESSION_RST", "NOP_TIMEDOUT",
];
const ERR_TEXT: Readonly<Record<string, string>> = {
  CONN_FAILED: "connection failed", TCP_CONN_CLOSE: "TCP connection closed", NOP_TIMEDOUT: "NOP-Out ping timed out",
  XMIT_FAILED: "transmit failed", SESSION_FAILED: "session failed", SCSI_EH_SESSION_RST: "session reset by SCSI error handling",
  HDR_DGST: "header digest error", DATA_DGST: "data digest error", PROTO: "protocol error",
};

function build(id: IscsiPatternId, g: Record<string, string | undefined>, rec: KmsgRecord, msg: string): EventDraft {
  const session = `session${g.sid}`;
  const base = { ...fromRecord(rec, msg), system: "iscsi" as const };
  if (id === "ping_timeout") {
    return {
      ...base, dev_name: g.conn, severity: "warn", event_type: "ISCSI_CONN_ERROR",
      extension: { session, connection: g.conn, ping_timeout_s: decNum(g.secs), recv_timeout_s: decNum(g.recv) },
      msg: `iSCSI NOP-Out ping not answered within ${g.secs}s`,
    };
  }
  if (id === "conn_error") {
    const err = decNum(g.err)!;
    const name = err >= 1000 ? ISCSI_ERR[err - 1000] : undefined;
    const ext: Record<string, unknown> = { session, connection: g.conn, error: err };
    if (name) ext.error_name = `ISCSI_ERR_${name}`;
    const text = name ? ERR_TEXT[name] ?? name.toLowerCase().replace(/_/g, " ") : `error ${err}`;
    return {
      ...base, dev_name: g.conn, extension: ext, severity: "warn", event_type: "ISCSI_CONN_ERROR",
      msg: `iSCSI connection error ${err} (${text})`,
    };
  }
  return {
    ...base, dev_name: session, extension: { session, recovery_timeout_s: decNum(g.secs) },
    severity: "error", event_type: "ISCSI_SESSION_RECOVERY_TIMEOUT",
    msg: `iSCSI session not recovered within ${g.secs}s, its devices fail I/O`,
  };
}

/** A ping timeout is held for the "detected conn error" it causes on the same connection (one
 * report, one event); the flush releases it alone after at most one tick. */
export function iscsiParser(now: () => number = () => performance.now()): KmsgParserState {
  const lines = lineParser(ISCSI_TABLE, build);
  const pings = new Map<string, { d: EventDraft; atMs: number }>();
  return {
    parse(rec, msg, emit) {
      const m = ISCSI_TABLE.match(msg);
      if (!m) return;
      const conn = m.groups.conn;
      const ping = conn !== undefined ? pings.get(conn) : undefined;
      if (ping) pings.delete(conn!);
      if (m.id === "ping_timeout") {
        if (ping) emit(ping.d);
        pings.set(conn!, { d: build(m.id, m.groups, rec, msg), atMs: now() });
        return;
      }
      if (ping && m.id === "conn_error") {
        const d = build(m.id, m.groups, rec, msg);
        emit({ ...d, raw: `${ping.d.raw}\n${d.raw}`, time_us: ping.d.time_us, extension: { ...ping.d.extension, ...d.extension }, msg: `${ping.d.msg}: ${d.msg}` });
        return;
      }
      if (ping) emit(ping.d);
      lines.parse(rec, msg, emit);
    },
    nextFlushIn: () => (pings.size ? Math.min(...[...pings.values()].map((p) => p.atMs + 100)) - now() : undefined),
    oldestHeld: () => minSeq([...pings.values()].map((p) => p.d.raw)),
    flush(emit, final) {
      for (const [conn, p] of pings) {
        if (!final && now() - p.atMs < 100) continue;
        pings.delete(conn);
        emit(p.d);
      }
    },
  };
}
