// The journal's native protocol (systemd.journal-fields(7), "Native Protocol"): one datagram of
// fields, each `KEY=value\n`, or `KEY\n<u64 LE length><value>\n` when the value holds a newline
// (binary-safe). Pure: no I/O here.
import type { StorageEvent } from "../../../src/plugin-api.ts";

export const PRIORITY = { error: 3, warn: 4, info: 6 } as const;

/** journald field names: A-Z, 0-9, _; not starting with a digit or _; at most 64 characters. */
export function fieldName(raw: string, prefix = ""): string {
  let name = (prefix + raw.toUpperCase().replace(/[^A-Z0-9_]+/g, "_")).replace(/_+$/, "");
  name = name.replace(/^[0-9_]+/, "");
  if (name === "") name = "X";
  return name.slice(0, 64);
}

/** A stable 128-bit MESSAGE_ID per event_type: SHA-256 of a fixed namespace + type, as UUIDv8 hex. */
export function messageId(eventType: string): string {
  // Bun.CryptoHasher, not node:crypto: loading that module costs every start-up ~3 ms.
  const h = new Bun.CryptoHasher("sha256").update(`storeventd/message-id/v1/${eventType}`).digest() as Buffer;
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8 (custom)
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  return h.subarray(0, 16).toString("hex");
}

function extValue(x: unknown): string {
  return typeof x === "string" ? x : JSON.stringify(x) ?? "";
}

/** The fields of one event, in order (a key may repeat only if two extension keys sanitise alike). */
export function eventFields(e: StorageEvent, identifier = "storeventd"): [string, string][] {
  const f: [string, string][] = [
    ["MESSAGE", e.msg],
    ["PRIORITY", String(PRIORITY[e.severity] ?? 6)],
    ["SYSLOG_IDENTIFIER", identifier],
    ["MESSAGE_ID", messageId(e.event_type)],
    ["STOREVENTD_EVENT_ID", e.event_id],
    ["STOREVENTD_EVENT_TYPE", e.event_type],
    ["STOREVENTD_SYSTEM", e.system],
    ["STOREVENTD_SEVERITY", e.severity],
    ["STOREVENTD_DEV_NAME", e.dev_name],
    ["STOREVENTD_DEV_PATH", e.dev_path],
    ["STOREVENTD_DEV_WWID", e.dev_wwid],
    ["STOREVENTD_OWNERS", JSON.stringify(e.owners)],
  ];
  for (const [k, x] of Object.entries(e.extension ?? {})) f.push([fieldName(k, "STOREVENTD_EXT_"), extValue(x)]);
  f.push(["STOREVENTD_JSON", JSON.stringify(e)]);
  return f;
}

/** Encodes fields into one native-protocol payload. */
export function encodeFields(fields: readonly [string, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [k, val] of fields) {
    const value = Buffer.from(val, "utf8");
    if (value.includes(0x0a)) {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(value.length));
      parts.push(Buffer.from(k + "\n"), len, value, Buffer.from("\n"));
    } else {
      parts.push(Buffer.from(`${k}=`), value, Buffer.from("\n"));
    }
  }
  return Buffer.concat(parts);
}

/** Decodes a native-protocol payload (the test's check of encodeFields; journald does this). */
export function decodeFields(buf: Buffer): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  while (i < buf.length) {
    const nl = buf.indexOf(0x0a, i);
    if (nl < 0) throw new Error("truncated field");
    const line = buf.subarray(i, nl).toString("utf8");
    const eq = line.indexOf("=");
    if (eq >= 0) {
      out.push([line.slice(0, eq), line.slice(eq + 1)]);
      i = nl + 1;
    } else {
      const len = Number(buf.readBigUInt64LE(nl + 1));
      const start = nl + 9;
      out.push([line, buf.subarray(start, start + len).toString("utf8")]);
      i = start + len + 1;
    }
  }
  return out;
}
