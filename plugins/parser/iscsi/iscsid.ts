// iscsid's journal lines -> ISCSI_* events (open-iscsi usr/initiator.c, usr/login.c; the same text in
// 2.1.8 (Debian 12, RHEL 9) and 2.1.11). A connection error that iscsid and the kernel both report
// is one event: the first teller's goes out at once, the other's is counted as joined.
import type { EventDraft, JournalRecord } from "../../../src/plugin-api.ts";
import { decNum } from "../../../src/plugin-kit/kernel.ts";

type Emit = (d: EventDraft) => void;

const KERNEL_ERROR = /^Kernel reported iSCSI connection (?<sid>\d{1,10}):(?<cid>\d{1,10}) error \((?<err>\d{1,6}) - (?<text>.{0,200})\) state \((?<state>\d{1,3})\)$/;
const OPERATIONAL = /^Connection(?<sid>\d{1,10}):(?<cid>\d{1,10}) to \[target: (?<target>[^,\]]{1,255}), portal: (?<portal>[^\]]{1,300}),(?<port>\d{1,5})\] through \[iface: (?<iface>[^\]]{1,64})\] is (?<what>operational now|shutdown\.)$/;
const RECOVERED = /^connection(?<sid>\d{1,10}):(?<cid>\d{1,10}) is operational after recovery \((?<n>\d{1,10}) attempts\)$/;
const LOGIN_REJECTED = /^(?:connection(?<sid>\d{1,10}):(?<cid>\d{1,10}) |session (?<sid2>\d{1,10}) )?login rejected: (?<why>.{1,200})$/;
const AUTH_FAILED = /^Login authentication failed with target (?<target>[^,]{1,255})(?:, (?<why>.{1,200}))?$/;

/** "ISCSI_ERR_TCP_CONN_CLOSE: TCP connection closed" (usr/kern_err_table.c) -> name, text. */
function errName(text: string): { name?: string; text: string } {
  const m = /^(ISCSI_[A-Z0-9_]{1,40}): (.*)$/.exec(text);
  return m ? { name: m[1], text: m[2]! } : { text };
}

export class IscsidLines {
  private recent = new Map<string, { us: number; by: "kernel" | "iscsid" }>();
  constructor(private windowMs = 10_000, private count: (n: string) => void = () => {}) {}

  private first(key: string, us: number, by: "kernel" | "iscsid"): boolean {
    const at = this.recent.get(key);
    this.recent.delete(key);
    if (at && at.by !== by && Math.abs(us - at.us) <= this.windowMs * 1000) return false;
    this.recent.set(key, { us, by });
    if (this.recent.size > 1024) this.recent.delete(this.recent.keys().next().value as string);
    return true;
  }

  /** A kernel iscsi event: false when iscsid already reported it. */
  kernel(d: EventDraft): boolean {
    if (d.event_type !== "ISCSI_CONN_ERROR") return true;
    const ok = this.first(`${d.dev_name}|${d.extension?.error}`, d.time_us ?? Date.now() * 1000, "kernel");
    if (!ok) this.count("joined_kernel");
    return ok;
  }

  parse(rec: JournalRecord, emit: Emit): void {
    const msg = rec.msg;
    const base = { system: "iscsi" as const, time_us: rec.time_us, raw: rec.raw };
    let m = KERNEL_ERROR.exec(msg);
    if (m) {
      const g = m.groups!;
      const conn = `connection${g.sid}:${g.cid}`;
      const err = decNum(g.err)!;
      if (!this.first(`${conn}|${err}`, rec.time_us ?? Date.now() * 1000, "iscsid")) return this.count("joined_iscsid");
      const { name, text } = errName(g.text!);
      const ext: Record<string, unknown> = { session: `session${g.sid}`, connection: conn, error: err, conn_state: decNum(g.state) };
      if (name) ext.error_name = name;
      emit({ ...base, severity: "warn", event_type: "ISCSI_CONN_ERROR", dev_name: conn, extension: ext, msg: `iSCSI connection error ${err} (${text})` });
      return;
    }
    if ((m = OPERATIONAL.exec(msg))) {
      const g = m.groups!;
      const conn = `connection${g.sid}:${g.cid}`;
      const up = g.what === "operational now";
      emit({
        ...base, severity: up ? "info" : "warn", event_type: up ? "ISCSI_CONN_UP" : "ISCSI_CONN_SHUTDOWN", dev_name: conn,
        extension: { session: `session${g.sid}`, connection: conn, target: g.target, portal: `${g.portal}:${g.port}`, iface: g.iface },
        msg: `iSCSI connection to ${g.target} at ${g.portal}:${g.port} ${up ? "is operational" : "was shut down"}.`,
      });
      return;
    }
    if ((m = RECOVERED.exec(msg))) {
      const g = m.groups!;
      const conn = `connection${g.sid}:${g.cid}`;
      emit({
        ...base, severity: "info", event_type: "ISCSI_CONN_RECOVERED", dev_name: conn,
        extension: { session: `session${g.sid}`, connection: conn, attempts: decNum(g.n) },
        msg: `iSCSI connection ${conn} recovered after ${g.n} attempts.`,
      });
      return;
    }
    if ((m = LOGIN_REJECTED.exec(msg)) || (m = AUTH_FAILED.exec(msg))) {
      const g = m.groups!;
      const sid = g.sid ?? g.sid2;
      const ext: Record<string, unknown> = { reason: g.why ?? "authentication failed" };
      if (sid) ext.session = `session${sid}`;
      if (g.cid) ext.connection = `connection${sid}:${g.cid}`;
      if (g.target) ext.target = g.target;
      emit({
        ...base, severity: "error", event_type: "ISCSI_LOGIN_FAILED", dev_name: (ext.connection ?? ext.session ?? g.target ?? "") as string,
        extension: ext, msg: `iSCSI login failed: ${g.why ?? `authentication with ${g.target} failed`}.`,
      });
    }
  }
}
