// Prometheus text exposition of the daemon's own health: events by type, per-instance counters,
// receiver queues and drops. Names follow <namespace>_<name>_<unit>_total.
import type { DaemonStatus } from "../daemon-api.ts";
import type { StorageEvent } from "../event.ts";

export class EventCounts {
  private counts = new Map<string, number>();
  observe = (e: StorageEvent): void => {
    const k = `${e.system}\0${e.event_type}\0${e.severity}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  };
  entries(): [system: string, type: string, severity: string, n: number][] {
    return [...this.counts].map(([k, n]) => [...(k.split("\0") as [string, string, string]), n]);
  }
}

const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const labels = (l: Record<string, string>) => `{${Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`).join(",")}}`;
const metricName = (s: string) => s.replace(/[^a-zA-Z0-9_]/g, "_");

export function renderMetrics(st: DaemonStatus, events: EventCounts): string {
  const out: string[] = [];
  const family = (name: string, type: "counter" | "gauge", help: string, rows: [Record<string, string>, number][]) => {
    if (!rows.length) return;
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, n] of rows) out.push(`${name}${Object.keys(l).length ? labels(l) : ""} ${n}`);
  };
  family("storeventd_build_info", "gauge", "Version, commit and whether the native addon is loaded.", [
    [{ version: st.version, commit: st.commit, addon: st.addon.loaded ? "loaded" : "fallback" }, 1],
  ]);
  family("storeventd_uptime_seconds", "gauge", "Seconds since the daemon started.", [[{}, st.uptime_s]]);
  family("storeventd_events_total", "counter", "Events delivered to the router, by type.",
    events.entries().map(([system, event_type, severity, n]) => [{ system, event_type, severity }, n]));
  family("storeventd_records_total", "counter", "Raw records read by all senders.", [[{}, st.counters["records"] ?? 0]]);
  family("storeventd_folded_events_total", "counter", "Repeated kernel messages folded into an earlier event.", [[{}, st.counters["folded"] ?? 0]]);
  family("storeventd_parser_errors_total", "counter", "Records a parser failed on (skipped).", [[{}, st.counters["parser_errors"] ?? 0]]);
  const recv = st.instances.filter((i) => i.queue);
  family("storeventd_receiver_queue_depth", "gauge", "Events waiting in a receiver's queue.", recv.map((i) => [{ receiver: i.name }, i.queue!.depth]));
  family("storeventd_receiver_queue_capacity", "gauge", "A receiver's queue bound.", recv.map((i) => [{ receiver: i.name }, i.queue!.max]));
  family("storeventd_receiver_sent_events_total", "counter", "Events a receiver delivered.", recv.map((i) => [{ receiver: i.name }, i.queue!.sent]));
  family("storeventd_receiver_errors_total", "counter", "Events whose delivery failed.", recv.map((i) => [{ receiver: i.name }, i.queue!.errors]));
  family("storeventd_receiver_dropped_events_total", "counter", "Events dropped because a receiver's queue was full.",
    recv.map((i) => [{ receiver: i.name, reason: "queue_full" }, i.queue!.dropped]));
  const rows: [Record<string, string>, number][] = [];
  for (const i of st.instances) for (const [c, n] of Object.entries(i.counters)) rows.push([{ instance: i.name, kind: i.kind, plugin: i.plugin, counter: metricName(c) }, n]);
  family("storeventd_plugin_ops_total", "counter", "Per-instance operation counts (records read, written, drops, errors, ...).", rows);
  return out.join("\n") + "\n";
}
