// What a fleet node knows of its hosts, from their heartbeats and events: liveness (HOST_SILENT after
// 3 missed heartbeats, HOST_BACK on return), events per severity in the last hour, and DRBD roles
// across hosts (DRBD_MULTIPLE_PRIMARY, DRBD_NO_PRIMARY). Pure: time comes in as arguments.
import type { EventDraft, StorageEvent } from "../../../src/plugin-api.ts";
import type { FleetHost, FleetResource, FleetService, Heartbeat } from "../../../src/plugin-kit/fleet.ts";

type Severity = StorageEvent["severity"];
const MISSED = 3;
const MINUTE_MS = 60_000;

/** A finding about a host (hostname set) or about the fleet (hostname undefined). */
export type FleetDraft = EventDraft & { hostname?: string };

interface Host {
  hostname: string;
  state: "alive" | "silent";
  lastSeenMs: number;
  lastBeatMs?: number;
  hb?: Heartbeat;
  /** Per minute of the last hour: [minute, info, warn, error]. */
  minutes: [number, number, number, number][];
  lastError?: string;
}

const SEV_INDEX: Record<Severity, 1 | 2 | 3> = { info: 1, warn: 2, error: 3 };

export class FleetTracker implements FleetService {
  private byName = new Map<string, Host>();
  /** Resources with more than one Primary, as reported (key: resource, value: sorted hosts). */
  private multi = new Map<string, string>();
  /** Promoter-managed resources without a Primary anywhere: since when (ms), and whether reported. */
  private noPrimary = new Map<string, { sinceMs: number; reported: boolean }>();

  constructor(private defaultIntervalMs: number, private noPrimaryAfterMs: number) {}

  private host(name: string, nowMs: number): Host {
    let h = this.byName.get(name);
    if (!h) {
      h = { hostname: name, state: "alive", lastSeenMs: nowMs, minutes: [] };
      this.byName.set(name, h);
    }
    return h;
  }

  /** A remote event: the host is seen, and counted by severity. */
  onEvent(e: StorageEvent, nowMs: number, out: FleetDraft[]): void {
    const h = this.host(e.hostname, nowMs);
    this.seen(h, nowMs, out);
    const minute = Math.floor(nowMs / MINUTE_MS);
    let last = h.minutes[h.minutes.length - 1];
    if (!last || last[0] !== minute) {
      last = [minute, 0, 0, 0];
      h.minutes.push(last);
      while (h.minutes.length && h.minutes[0]![0] <= minute - 60) h.minutes.shift();
    }
    last[SEV_INDEX[e.severity] ?? 1]++;
    if (e.severity === "error") h.lastError = e.msg;
  }

  onHeartbeat(hb: Heartbeat, nowMs: number, out: FleetDraft[]): void {
    const h = this.host(hb.hostname, nowMs);
    h.hb = hb;
    h.lastBeatMs = nowMs;
    this.seen(h, nowMs, out);
    this.checkDrbd(nowMs, out);
  }

  private seen(h: Host, nowMs: number, out: FleetDraft[]): void {
    h.lastSeenMs = nowMs;
    if (h.state !== "silent") return;
    h.state = "alive";
    out.push({
      hostname: h.hostname, severity: "info", system: "daemon", event_type: "HOST_BACK",
      msg: `host ${h.hostname} is back`, extension: { host: h.hostname },
    });
  }

  private intervalMs(h: Host): number {
    return h.hb && h.hb.interval_s > 0 ? h.hb.interval_s * 1000 : this.defaultIntervalMs;
  }

  /** Every 250 ms: silent hosts and resources that lost their Primary. */
  tick(nowMs: number, out: FleetDraft[]): void {
    for (const h of this.byName.values()) {
      if (h.state === "silent" || h.lastBeatMs === undefined) continue; // only hosts that send heartbeats
      const limit = MISSED * this.intervalMs(h);
      if (nowMs - h.lastSeenMs <= limit) continue;
      h.state = "silent";
      out.push({
        hostname: h.hostname, severity: "error", system: "daemon", event_type: "HOST_SILENT",
        msg: `host ${h.hostname} missed ${MISSED} heartbeats (last seen ${new Date(h.lastSeenMs).toISOString()})`,
        extension: { host: h.hostname, last_seen: new Date(h.lastSeenMs).toISOString(), interval_s: limit / MISSED / 1000 },
      });
    }
    this.checkDrbd(nowMs, out);
  }

  /** Hosts (alive ones only) that report each resource, with their role. */
  private roles(): Map<string, { host: string; role: string }[]> {
    const m = new Map<string, { host: string; role: string }[]>();
    for (const h of this.byName.values()) {
      if (h.state !== "alive" || !h.hb) continue;
      for (const r of h.hb.drbd) {
        if (!m.has(r.name)) m.set(r.name, []);
        m.get(r.name)!.push({ host: h.hostname, role: r.role });
      }
    }
    return m;
  }

  private checkDrbd(nowMs: number, out: FleetDraft[]): void {
    const roles = this.roles();
    for (const [res, list] of roles) {
      const primaries = list.filter((x) => x.role === "Primary").map((x) => x.host).sort();
      const key = primaries.join(",");
      if (primaries.length < 2) this.multi.delete(res);
      else if (this.multi.get(res) !== key) {
        this.multi.set(res, key);
        out.push({
          severity: "error", system: "drbd", event_type: "DRBD_MULTIPLE_PRIMARY",
          msg: `DRBD resource ${res} is Primary on ${primaries.length} hosts at once: ${primaries.join(", ")}`,
          extension: { resource: res, hosts: primaries },
        });
      }
    }
    const managed = new Set<string>();
    for (const h of this.byName.values()) if (h.state === "alive") for (const p of h.hb?.promoter ?? []) managed.add(p.resource);
    for (const res of managed) {
      const hasPrimary = (roles.get(res) ?? []).some((x) => x.role === "Primary");
      const cur = this.noPrimary.get(res);
      if (hasPrimary) {
        this.noPrimary.delete(res);
        continue;
      }
      if (!cur) this.noPrimary.set(res, { sinceMs: nowMs, reported: false });
      else if (!cur.reported && nowMs - cur.sinceMs >= this.noPrimaryAfterMs) {
        cur.reported = true;
        out.push({
          severity: "error", system: "drbd", event_type: "DRBD_NO_PRIMARY",
          msg: `promoter-managed DRBD resource ${res} has had no Primary on any host for ${Math.round((nowMs - cur.sinceMs) / 1000)} s`,
          extension: { resource: res, since: new Date(cur.sinceMs).toISOString(), hosts: (roles.get(res) ?? []).map((x) => x.host).sort() },
        });
      }
    }
    for (const res of this.noPrimary.keys()) if (!managed.has(res)) this.noPrimary.delete(res);
  }

  hostsAt(nowMs: number): FleetHost[] {
    const minute = Math.floor(nowMs / MINUTE_MS);
    return [...this.byName.values()].sort((a, b) => (a.hostname < b.hostname ? -1 : 1)).map((h) => {
      const events_1h: Record<Severity, number> = { info: 0, warn: 0, error: 0 };
      for (const [m, i, w, e] of h.minutes) {
        if (m <= minute - 60) continue;
        events_1h.info += i;
        events_1h.warn += w;
        events_1h.error += e;
      }
      return {
        hostname: h.hostname, state: h.state, last_seen: new Date(h.lastSeenMs).toISOString(),
        ...(h.hb ? { version: h.hb.version, uptime_s: h.hb.uptime_s, drops: h.hb.drops } : {}),
        events_1h, ...(h.lastError !== undefined ? { last_error: h.lastError } : {}),
      };
    });
  }

  hosts(): FleetHost[] {
    return this.hostsAt(Date.now());
  }

  drbd(): FleetResource[] {
    const out: FleetResource[] = [];
    for (const h of [...this.byName.values()].sort((a, b) => (a.hostname < b.hostname ? -1 : 1))) {
      for (const r of h.hb?.drbd ?? []) out.push({ host: h.hostname, resource: r, ...(h.state === "silent" ? { stale: true } : {}) });
    }
    return out.sort((a, b) => (a.resource.name < b.resource.name ? -1 : a.resource.name > b.resource.name ? 1 : 0));
  }
}
