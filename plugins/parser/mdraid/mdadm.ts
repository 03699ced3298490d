// `mdadm --monitor --syslog` lines -> MD_* events, joined with the kernel's md events so one failure
// is one event: whichever of the two reports an (event, array, member) first is delivered at once,
// the other is counted as joined. Formats: mdadm 4.2 Monitor.c alert() syslog(), mdadm 4.3+
// Monitor.c/mdmonitor.c sprint_event_message() (BASE_MESSAGE [COMPONENT_DEVICE_MESSAGE] [DESCRIPTION_MESSAGE]).
import type { EventDraft, JournalRecord } from "../../../src/plugin-api.ts";

type Severity = EventDraft["severity"];

type Emit = (d: EventDraft) => void;

/** "%s event detected on md device %s" [", component device %s"] [": %s"] (4.2 has one of the two tails). */
export const MDADM_LINE =
  /^(?<event>[A-Za-z]{4,24}?(?<pct>\d{2})?) event detected on md device (?<md>\/\S{1,200}?)(?:, component device (?<comp>.{1,200}?))?(?:: (?<desc>.{1,200}))?$/;
/** RebuildFinished's mismatch count: 4.2 ": %s" with disc " mismatches found: ..."; 4.3+ passes it as the component. */
const MISMATCH = /^\s*mismatches found: (?<n>\d{1,20}) \(on raid level (?<level>-?\d{1,3})\)$/;

interface Kind { type: string; severity: Severity; text: string }
/** Every event mdadm(8) MONITOR MODE documents. */
const EVENTS: Readonly<Record<string, Kind>> = {
  Fail: { type: "MD_DISK_FAILED", severity: "error", text: "member %c failed" },
  FailSpare: { type: "MD_DISK_FAILED", severity: "error", text: "spare %c failed while it was rebuilt in" },
  DegradedArray: { type: "MD_ARRAY_DEGRADED", severity: "warn", text: "is degraded" },
  SparesMissing: { type: "MD_SPARES_MISSING", severity: "warn", text: "has fewer spares than mdadm.conf names" },
  MoveSpare: { type: "MD_SPARE_MOVED", severity: "info", text: "received spare %c moved from another array" },
  RebuildStarted: { type: "MD_RESYNC_STARTED", severity: "info", text: "started a rebuild/resync" },
  Rebuild: { type: "MD_RESYNC_PROGRESS", severity: "info", text: "rebuild/resync reached %p%" },
  RebuildFinished: { type: "MD_RESYNC_DONE", severity: "info", text: "finished its rebuild/resync" },
  SpareActive: { type: "MD_SPARE_ACTIVE", severity: "info", text: "made spare %c an active member" },
  DeviceDisappeared: { type: "MD_ARRAY_STOPPED", severity: "warn", text: "disappeared (stopped or failed)" },
  NewArray: { type: "MD_ARRAY_STARTED", severity: "info", text: "appeared" },
  TestMessage: { type: "MD_TEST_MESSAGE", severity: "info", text: "sent mdadm's test message" },
};
/** Types the kernel's md lines also give: only these are joined. */
const KERNEL_TYPES = new Set(["MD_DISK_FAILED", "MD_ARRAY_DEGRADED", "MD_RESYNC_STARTED", "MD_RESYNC_DONE", "MD_ARRAY_STARTED", "MD_ARRAY_STOPPED"]);
const MAX_RECENT = 1024;

function base(path: string): string {
  return path.startsWith("/dev/") ? path.slice(5) : path;
}

export class MdadmMonitor {
  /** key -> wall-clock µs and teller of the last report. */
  private recent = new Map<string, { us: number; by: "kernel" | "mdadm" }>();

  /**
   * resolve: "/dev/md/name" -> kernel name (md127) when known; windowMs: how far apart the kernel and
   * mdadm may report one thing (mdadm polls every 60 s unless md events wake it).
   */
  constructor(private resolve: (path: string) => string, private windowMs = 120_000, private count: (n: string) => void = () => {}) {}

  private key(type: string, md: string, member: string): string {
    return `${type}|${md}|${type === "MD_DISK_FAILED" ? member : ""}`;
  }

  /** True when the report is new; false when the other teller reported it within the window. */
  private first(key: string, timeUs: number, by: "kernel" | "mdadm"): boolean {
    const at = this.recent.get(key);
    if (at !== undefined && at.by !== by && Math.abs(timeUs - at.us) <= this.windowMs * 1000) {
      this.recent.delete(key); // joined once: a repeat later is a new report
      return false;
    }
    this.recent.delete(key);
    this.recent.set(key, { us: timeUs, by });
    if (this.recent.size > MAX_RECENT) this.recent.delete(this.recent.keys().next().value as string);
    return true;
  }

  /** A kernel md event: false when mdadm already reported it (drop it). */
  kernel(d: EventDraft): boolean {
    if (!KERNEL_TYPES.has(d.event_type)) return true;
    const ext = d.extension ?? {};
    const md = String(ext.array ?? d.dev_name ?? "");
    const member = String(ext.member ?? "");
    const ok = this.first(this.key(d.event_type, md, member), d.time_us ?? Date.now() * 1000, "kernel");
    if (!ok) this.count("joined_kernel");
    return ok;
  }

  parse(rec: JournalRecord, emit: Emit): void {
    const m = MDADM_LINE.exec(rec.msg);
    if (!m) return;
    const g = m.groups!;
    const name = g.pct !== undefined && g.event === `Rebuild${g.pct}` ? "Rebuild" : g.event!;
    const kind = EVENTS[name];
    if (!kind) return;
    const md = this.resolve(g.md!) || base(g.md!);
    let comp = g.comp;
    let desc = g.desc;
    // 4.3+ puts " mismatches found: N (...)" in the component slot; its ": " is not the description's.
    if (comp !== undefined && desc !== undefined && MISMATCH.test(`${comp}: ${desc}`)) [comp, desc] = [`${comp}: ${desc}`, undefined];
    const mm = MISMATCH.exec(comp ?? "") ?? MISMATCH.exec(desc ?? "");
    if (mm && MISMATCH.test(comp ?? "")) comp = undefined; // 4.3+ form: the count sits in the component slot
    if (mm && desc !== undefined && MISMATCH.test(desc)) desc = undefined; // 4.2 form
    const member = comp ? base(comp.trim()) : "";
    const ext: Record<string, unknown> = { array: md, mdadm_event: g.event, md_device: g.md };
    if (member) ext.member = member;
    if (desc) ext.description = desc;
    if (name === "Rebuild") ext.percent = Number(g.pct);
    let { type, severity } = kind;
    if (mm) {
      const n = Number(mm.groups!.n);
      Object.assign(ext, { mismatches: n, level: `raid${mm.groups!.level}` });
      if (n > 0) [type, severity] = ["MD_MISMATCHES_FOUND", "warn"];
    }
    const timeUs = rec.time_us ?? Date.now() * 1000;
    if (KERNEL_TYPES.has(type) && !this.first(this.key(type, md, member), timeUs, "mdadm")) return this.count("joined_mdadm");
    const text = kind.text.replace("%c", member || "?").replace("%p", g.pct ?? "");
    const msg = type === "MD_MISMATCHES_FOUND"
      ? `md array ${md} finished its check/resync with ${ext.mismatches} mismatched sectors.`
      : `md array ${md} ${text} (mdadm ${g.event}).`;
    emit({
      severity, system: "mdraid", event_type: type, dev_name: type === "MD_DISK_FAILED" && member ? member : md,
      owners: type === "MD_DISK_FAILED" ? [{ dev_name: md, dev_wwid: "" }] : undefined,
      msg, extension: ext, time_us: rec.time_us, raw: rec.raw,
    });
  }
}
