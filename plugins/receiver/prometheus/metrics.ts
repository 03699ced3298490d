// drbd-reactor's Prometheus metrics (src/plugin/prometheus.rs, doc/prometheus.md) rendered from the
// DRBD model: the same names, labels and units, so existing dashboards keep working; plus
// storeventd's DRBD event counters. Two deliberate differences: drbd_peerdevice_sent_bytes and
// drbd_peerdevice_received_bytes are typed gauge (drbd-reactor says counter, which `promtool check
// metrics` rejects without a _total suffix; renaming would break dashboards), and HELP comes before
// TYPE as the exposition format documents.
import {
  CONNECTION_STATES, DISK_STATES, type DrbdModel, ROLES,
} from "../../../src/plugin-kit/drbd.ts";

type Labels = Record<string, string | number>;

class Families {
  private fams = new Map<string, { help: string; type: string; rows: string[] }>();
  add(name: string, type: "gauge" | "counter", help: string, labels: Labels, value: number): void {
    let f = this.fams.get(name);
    if (!f) {
      f = { help, type, rows: [] };
      this.fams.set(name, f);
    }
    const l = Object.entries(labels).map(([k, v]) => `${k}="${esc(String(v))}"`).join(",");
    f.rows.push(`${name}${l ? `{${l}}` : ""} ${Number.isFinite(value) ? value : 0}`);
  }
  render(): string {
    let out = "";
    for (const [name, f] of this.fams) {
      out += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n${f.rows.join("\n")}\n`;
    }
    return out;
  }
}

function esc(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

const b = (x: boolean) => (x ? 1 : 0);

export interface RenderInput {
  model: DrbdModel | undefined;
  enums: boolean;
  version: { kmod: string; utils: string };
  eventCounts: ReadonlyMap<string, number>;
}

export function renderMetrics({ model, enums, version, eventCounts }: RenderInput): string {
  const m = new Families();
  m.add("drbdreactor_up", "gauge", "Boolean indicating whether or not drbdreactor is running. Always 1", {}, 1);
  m.add("drbd_version", "gauge", "Version of the loaded DRBD kernel module and DRBD utils", { kmod: version.kmod, utils: version.utils }, 1);
  const resources = model?.resources() ?? [];
  m.add("drbd_resource_resources", "gauge", "Number of resources", {}, resources.length);
  for (const r of resources) {
    const name = r.name;
    if (enums) {
      for (const role of ROLES) m.add("drbd_resource_role", "gauge", "DRBD role of the resource", { name, drbd_resource_role: role }, b(role === r.role));
    }
    m.add("drbd_resource_suspended", "gauge", "Boolean whether the resource is suspended", { name }, b(r.suspended !== "no"));
    m.add("drbd_resource_maypromote", "gauge", "Boolean whether the resource may be promoted to Primary", { name }, b(r.mayPromote));
    m.add("drbd_resource_promotionscore", "gauge", "The promotion score (higher is better) for the resource", { name }, r.promotionScore);
    m.add("drbd_resource_forceiofailures", "gauge",
      "Boolean whether the resource is configured (could be temporarily) to force IO failures (e.g., during secondary --force)",
      { name }, b(r.forceIoFailures));
    for (const c of [...r.connections.values()].sort((x, y) => x.peerNodeId - y.peerNodeId)) {
      const common = { name, conn_name: c.connName, peer_node_id: c.peerNodeId };
      if (enums) {
        for (const s of CONNECTION_STATES) {
          m.add("drbd_connection_state", "gauge", "DRBD connection state", { ...common, drbd_connection_state: s }, b(s === c.connection));
        }
      }
      for (const p of [...c.peerDevices.values()].sort((x, y) => x.volume - y.volume)) {
        const l = { ...common, volume: p.volume };
        m.add("drbd_peerdevice_outofsync_bytes", "gauge",
          "Number of bytes currently out of sync with this peer, according to the bitmap that DRBD has for it", l, p.outOfSync * 1024);
        m.add("drbd_peerdevice_sent_bytes", "gauge", "Number of bytes currently sent to this peer", l, p.sent * 1024);
        m.add("drbd_peerdevice_received_bytes", "gauge", "Number of bytes currently received from this peer", l, p.received * 1024);
      }
      m.add("drbd_connection_congested", "gauge", "Boolean whether the TCP send buffer of the data connection is more than 80% filled", common, b(c.congested));
      m.add("drbd_connection_apinflight_bytes", "gauge", "Number of application requests in flight (not completed)", common, c.apInFlight * 512);
      m.add("drbd_connection_rsinflight_bytes", "gauge", "Number of resync requests in flight", common, c.rsInFlight * 512);
    }
    for (const d of [...r.devices.values()].sort((x, y) => x.volume - y.volume)) {
      const l = { name, volume: d.volume, minor: d.minor };
      if (enums) {
        for (const s of DISK_STATES) m.add("drbd_device_state", "gauge", "DRBD device state", { ...l, drbd_device_state: s }, b(s === d.disk));
      }
      m.add("drbd_device_client", "gauge", "Boolean whether this device is a client (i.e., intentional diskless)", l, b(d.client));
      m.add("drbd_device_unintentionaldiskless", "gauge", "Boolean whether the devices is unintentional diskless", l,
        b(!d.client && d.disk === "Diskless"));
      m.add("drbd_device_quorum", "gauge", "Boolean if this device has DRBD quorum", l, b(d.quorum));
      m.add("drbd_device_open", "gauge", "Boolean if this device is opened", l, b(d.open));
      m.add("drbd_device_size_bytes", "gauge", "Device size in bytes", l, d.size * 1024);
      m.add("drbd_device_read_bytes_total", "counter", "Net data read from local hard disk", l, d.read * 1024);
      m.add("drbd_device_written_bytes_total", "counter", "Net data written on local disk", l, d.written * 1024);
      m.add("drbd_device_alwrites_total", "counter", "Number of updates of the activity log area of the meta data", l, d.alWrites);
      m.add("drbd_device_bmwrites_total", "counter", "Number of updates of the bitmap area of the meta data", l, d.bmWrites);
      m.add("drbd_device_upperpending", "gauge", "Number of block I/O requests forwarded to DRBD, but not yet answered by DRBD.", l, d.upperPending);
      m.add("drbd_device_lowerpending", "gauge", "Number of open requests to the local I/O sub-system issued by DRBD", l, d.lowerPending);
      m.add("drbd_device_alsuspended", "gauge", "Boolean whether the Activity-Log is suspended", l, b(d.alSuspended));
    }
  }
  for (const [type, n] of [...eventCounts].sort()) {
    m.add("storeventd_drbd_events_total", "counter", "DRBD events storeventd delivered to this receiver, by type", { event_type: type }, n);
  }
  return m.render();
}

