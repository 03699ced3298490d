// The mail for a batch of events: subject with host, severity and event types, a plain-text body
// with every event and what is known of its devices. Pure (the device lookup is passed in).
import type { DeviceIdentity, StorageEvent } from "../../../src/plugin-api.ts";

const RANK = { info: 0, warn: 1, error: 2 } as const;

export interface MessageOptions {
  from: string;
  to: string[];
  subjectPrefix: string;
  hostname: string;
  identify: (dev: string) => DeviceIdentity;
  /** For Message-ID and Date; tests pass fixed ones. */
  now?: Date;
  messageId?: string;
}

export function subjectOf(events: readonly StorageEvent[], prefix: string, hostname: string): string {
  const bySev = new Map<string, number>();
  for (const e of events) bySev.set(e.severity, (bySev.get(e.severity) ?? 0) + 1);
  const sevs = [...bySev].sort((a, b) => RANK[b[0] as keyof typeof RANK] - RANK[a[0] as keyof typeof RANK]);
  const types = [...new Set(events.map((e) => e.event_type))];
  const devs = [...new Set(events.map((e) => e.dev_name).filter(Boolean))];
  const typeText = types.length <= 3 ? types.join(", ") : `${types.slice(0, 3).join(", ")} +${types.length - 3} more`;
  const devText = devs.length === 0 ? "" : devs.length <= 3 ? ` (${devs.join(", ")})` : ` (${devs.slice(0, 3).join(", ")} +${devs.length - 3})`;
  const host = events[0]?.hostname || hostname;
  const head = events.length === 1 ? sevs[0]![0].toUpperCase() : sevs.map(([s, n]) => `${n} ${s}`).join(", ");
  // Header text: no control characters (a CR/LF from event data must not start a new header).
  return `${prefix ? prefix + " " : ""}${host}: ${head}: ${typeText}${devText}`.replace(/[\x00-\x1f\x7f]+/g, " ");
}

function indent(text: string, pad = "    "): string {
  return text.split("\n").map((l) => pad + l).join("\n");
}

function extText(ext: Record<string, unknown>): string[] {
  return Object.entries(ext).map(([k, x]) => `${k}=${typeof x === "string" ? x : JSON.stringify(x)}`);
}

export function bodyOf(events: readonly StorageEvent[], identify: (dev: string) => DeviceIdentity, hostname: string): string {
  const host = events[0]?.hostname || hostname;
  const out: string[] = [];
  out.push(`storeventd on ${host}: ${events.length} event${events.length === 1 ? "" : "s"}` +
    (events.length ? `, ${events[0]!.time} .. ${events[events.length - 1]!.time}` : ""), "");
  events.forEach((e, i) => {
    out.push(`${i + 1}. [${e.severity.toUpperCase()}] ${e.event_type} ${e.dev_name || "-"}`);
    out.push(`   ${e.msg.replace(/\n/g, "\n   ")}`);
    out.push(`   time: ${e.time}  system: ${e.system}  source: ${e.source}`);
    if (e.dev_name) out.push(`   device: ${e.dev_name}  path: ${e.dev_path || "-"}  wwid: ${e.dev_wwid || "-"}`);
    if (e.owners.length) out.push(`   owners: ${e.owners.map((o) => `${o.dev_name}${o.dev_wwid ? ` (${o.dev_wwid})` : ""}`).join(", ")}`);
    const ext = extText(e.extension ?? {});
    if (ext.length) out.push(`   details: ${ext.join("  ")}`);
    if (e.raw) out.push("   raw:", indent(e.raw, "     "));
    out.push(`   event_id: ${e.event_id}`, "");
  });
  const devs = [...new Set(events.map((e) => e.dev_name).filter(Boolean))];
  if (devs.length) {
    out.push("Devices (as known now):");
    for (const d of devs) {
      const id = identify(d);
      out.push(`  ${id.dev_name}: path ${id.dev_path || "-"}, wwid ${id.dev_wwid || "-"}` +
        (id.owners.length ? `, used by ${id.owners.map((o) => o.dev_name).join(", ")}` : ""));
    }
    out.push("");
  }
  return out.join("\n");
}

/** RFC 2047 encoded-word when the header text is not plain ASCII. */
export function encodeHeader(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  // Encoded words of at most ~45 bytes of input each, split at character boundaries.
  const words: string[] = [];
  let chunk = "";
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString("base64")}?=`).join("\r\n ");
}

/** Quoted-printable (RFC 2045 §6.7) with CRLF line ends and soft breaks at 76 characters. */
export function quotedPrintable(text: string): string {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const bytes = Buffer.from(line, "utf8");
    let cur = "";
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      const last = i === bytes.length - 1;
      let tok: string;
      if ((b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last)) tok = String.fromCharCode(b);
      else tok = "=" + b.toString(16).toUpperCase().padStart(2, "0");
      if (cur.length + tok.length > 75) {
        out.push(cur + "=");
        cur = "";
      }
      cur += tok;
    }
    out.push(cur);
  }
  return out.join("\r\n");
}

function rfc2822Date(d: Date): string {
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getUTCDay()];
  const mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, "0");
  return `${day}, ${d.getUTCDate()} ${mon} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** The whole message (headers + quoted-printable body), CRLF line ends. */
export function buildMessage(events: readonly StorageEvent[], o: MessageOptions): { subject: string; body: string; data: string } {
  const subject = subjectOf(events, o.subjectPrefix, o.hostname);
  const body = bodyOf(events, o.identify, o.hostname);
  const headers = [
    `From: ${o.from}`,
    `To: ${o.to.join(", ")}`,
    `Subject: ${encodeHeader(subject)}`,
    `Date: ${rfc2822Date(o.now ?? new Date())}`,
    `Message-ID: <${o.messageId ?? crypto.randomUUID()}@${o.hostname.replace(/[^A-Za-z0-9.-]/g, "-") || "localhost"}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "Auto-Submitted: auto-generated",
    "X-Storeventd-Events: " + events.length,
  ];
  const qp = quotedPrintable(body);
  return { subject, body, data: headers.join("\r\n") + "\r\n\r\n" + qp + (qp.endsWith("\r\n") ? "" : "\r\n") };
}
