// A DRBD cluster simulator for promoter tests: one replicated resource over N nodes, the state DRBD
// would have on each, and what each node's `drbdsetup events2` prints when it changes (lines from
// test/helpers/drbd-cluster.ts, byte for byte as drbd-utils prints them). Rules, as DRBD 9 with
// `quorum majority` and `auto-promote no`:
// - reachability: a node is up and no link cut between the two;
// - quorum: a majority of all nodes reachable (self included) and a local UpToDate disk among them;
// - may_promote: Secondary, quorum, local UpToDate disk, no reachable Primary;
// - `primary` is refused while another reachable node is Primary (-1), without quorum (-25), or
//   when a connected peer is connected to a Primary (-10, the peer declines);
// - `secondary --force` always demotes; a plain `secondary` fails while the device is open (-12).
// A node that comes back sees the cluster as it is now (its Primary role is forced away when it was
// isolated and another node promoted, as on-suspended-primary-outdated = force-secondary does).
import {
  connectionLine, deviceLine, peerDeviceLine, resourceLine, type SimConnection, type SimResource,
} from "../helpers/drbd-cluster.ts";

export type LineSink = (line: string) => void;

const STATE_ERR: Record<number, string> = {
  [-1]: "Multiple primaries not allowed by config",
  [-10]: "State change was refused by peer node",
  [-12]: "Device is held open by someone",
  [-25]: "No quorum",
};

export class SimCluster {
  readonly up = new Map<string, boolean>();
  readonly disk = new Map<string, string>();
  readonly role = new Map<string, string>();
  readonly open = new Map<string, boolean>();
  private cuts = new Set<string>();
  private sinks = new Map<string, Set<LineSink>>();
  private views = new Map<string, SimResource>();
  /** Every moment two nodes were writable Primaries (Primary with quorum) at once (must stay empty). */
  readonly doublePrimary: string[] = [];

  constructor(readonly res: string, readonly nodes: string[], readonly minor = 1000) {
    for (const n of nodes) {
      this.up.set(n, true);
      this.disk.set(n, "UpToDate");
      this.role.set(n, "Secondary");
      this.open.set(n, false);
    }
    for (const n of nodes) this.views.set(n, this.view(n));
  }

  reachable(a: string, b: string): boolean {
    if (!this.up.get(a) || !this.up.get(b)) return false;
    return a === b || !this.cuts.has([a, b].sort().join("|"));
  }

  quorum(n: string): boolean {
    const reach = this.nodes.filter((x) => this.reachable(n, x));
    return this.up.get(n)! && reach.length * 2 > this.nodes.length && reach.some((x) => this.disk.get(x) === "UpToDate");
  }

  /** The nodes n reaches directly or through other nodes. */
  component(n: string): string[] {
    const seen = new Set([n]);
    const todo = [n];
    while (todo.length) {
      const a = todo.pop()!;
      for (const b of this.nodes) if (!seen.has(b) && this.reachable(a, b)) (seen.add(b), todo.push(b));
    }
    return [...seen];
  }

  primaries(): string[] {
    return this.nodes.filter((n) => this.up.get(n) && this.role.get(n) === "Primary");
  }

  mayPromote(n: string): boolean {
    return this.up.get(n)! && this.role.get(n) === "Secondary" && this.quorum(n) && this.disk.get(n) === "UpToDate" &&
      !this.nodes.some((x) => x !== n && this.reachable(n, x) && this.role.get(x) === "Primary");
  }

  /** What node n's DRBD reports (its own view of itself and its peers). */
  view(n: string): SimResource {
    const self = this.nodes.indexOf(n);
    const quorum = this.quorum(n);
    const connections: SimConnection[] = this.nodes.filter((p) => p !== n).map((p) => {
      const reach = this.reachable(n, p);
      const peer = this.nodes.indexOf(p);
      return {
        peer, connName: p, connection: reach ? "Connected" : "Connecting", role: reach ? this.role.get(p)! : "Unknown",
        congested: false, local: `ipv4:10.99.0.${self + 1}:7${this.minor}`, remote: `ipv4:10.99.0.${peer + 1}:7${this.minor}`,
        established: reach,
        peerDevices: [{
          volume: 0, replication: reach ? "Established" : "Off", peerDisk: reach ? this.disk.get(p)! : "DUnknown",
          peerClient: false, resyncSuspended: "no", received: 0, sent: 0, outOfSync: 0,
        }],
      };
    });
    return {
      name: this.res, role: this.role.get(n)!, suspended: "no", writeOrdering: "flush", mayPromote: this.mayPromote(n),
      promotionScore: quorum ? 10101 : 0,
      devices: [{
        volume: 0, minor: this.minor, backingDev: `/dev/vg0/${this.res}_0`, disk: this.disk.get(n)!, client: false,
        open: this.open.get(n)!, quorum, size: 1048576, read: 0, written: 0, alWrites: 0, bmWrites: 0,
      }],
      connections,
    };
  }

  /** The initial dump node n's `drbdsetup events2 --full` prints. */
  dump(n: string): string[] {
    const r = this.view(n);
    this.views.set(n, r);
    const out = [resourceLine("exists", r)];
    for (const c of r.connections) out.push(connectionLine("exists", r, c));
    for (const d of r.devices) out.push(deviceLine("exists", r, d));
    for (const c of r.connections) for (const p of c.peerDevices) out.push(peerDeviceLine("exists", r, c, p));
    out.push("exists -");
    return out;
  }

  subscribe(n: string, sink: LineSink): () => void {
    let s = this.sinks.get(n);
    if (!s) this.sinks.set(n, (s = new Set()));
    s.add(sink);
    return () => void s!.delete(sink);
  }

  /** Emits each up node's change lines (only objects whose printed state changed), resource line last
   * when may_promote turns true, first otherwise - as DRBD's state change reports order them. */
  private publish(): void {
    const writable = this.primaries().filter((n) => this.quorum(n));
    if (writable.length > 1) this.doublePrimary.push(writable.join(","));
    for (const n of this.nodes) {
      // A node that is down keeps its last view: when it comes back, it reports what changed since.
      if (!this.up.get(n)) continue;
      const old = this.views.get(n)!;
      const now = this.view(n);
      this.views.set(n, now);
      const lines: string[] = [];
      const resChanged = resourceLine("change", old) !== resourceLine("change", now);
      if (resChanged && !now.mayPromote) lines.push(resourceLine("change", now));
      now.connections.forEach((c, i) => {
        const line = connectionLine("change", now, c);
        if (line !== connectionLine("change", old, old.connections[i]!)) lines.push(line);
      });
      now.devices.forEach((d, i) => {
        const line = deviceLine("change", now, d);
        if (line !== deviceLine("change", old, old.devices[i]!)) lines.push(line);
      });
      now.connections.forEach((c, i) => c.peerDevices.forEach((pd, j) => {
        const line = peerDeviceLine("change", now, c, pd);
        if (line !== peerDeviceLine("change", old, old.connections[i]!, old.connections[i]!.peerDevices[j]!)) lines.push(line);
      }));
      if (resChanged && now.mayPromote) lines.push(resourceLine("change", now));
      for (const l of lines) for (const s of this.sinks.get(n) ?? []) s(l);
    }
  }

  // ---- what tests do to nodes --------------------------------------------------------------------

  kill(n: string): void {
    this.up.set(n, false);
    this.role.set(n, "Secondary");
    this.open.set(n, false);
    this.publish();
  }

  boot(n: string): void {
    this.up.set(n, true);
    this.publish();
  }

  cut(a: string, b: string): void {
    this.cuts.add([a, b].sort().join("|"));
    this.settle();
  }

  isolate(n: string): void {
    for (const x of this.nodes) if (x !== n) this.cuts.add([n, x].sort().join("|"));
    this.settle();
  }

  heal(): void {
    this.cuts.clear();
    this.settle();
  }

  /** Sets exactly which links are cut ("a|b", names sorted); publishes only on a change. */
  setCuts(pairs: Iterable<string>): void {
    const next = new Set(pairs);
    if (next.size === this.cuts.size && [...next].every((p) => this.cuts.has(p))) return;
    this.cuts = next;
    this.settle();
  }

  setDisk(n: string, disk: string): void {
    this.disk.set(n, disk);
    this.publish();
  }

  /** After a reconnect, two Primaries that now see each other: the one without quorum while apart
   * is forced to Secondary (on-suspended-primary-outdated = force-secondary). */
  private settle(): void {
    const p = this.primaries();
    if (p.length > 1) {
      for (const n of p) {
        if (p.some((o) => o !== n && this.reachable(n, o)) && !this.wasQuorate(n)) this.role.set(n, "Secondary");
      }
    }
    this.publish();
  }

  private quorateAtPromote = new Map<string, number>();
  private promotions = 0;
  private wasQuorate(n: string): boolean {
    // The most recent promotion wins: older Primaries were outdated by it.
    const mine = this.quorateAtPromote.get(n) ?? -1;
    return !this.primaries().some((o) => o !== n && (this.quorateAtPromote.get(o) ?? -1) > mine);
  }

  // ---- drbdsetup on node n -------------------------------------------------------------------------

  primary(n: string): { code: number; stderr: string } {
    if (!this.up.get(n)) return { code: 10, stderr: `${this.res}: No such resource\n` };
    if (this.role.get(n) === "Primary") return { code: 0, stderr: "" };
    let rv = 0;
    if (this.nodes.some((x) => x !== n && this.reachable(n, x) && this.role.get(x) === "Primary")) rv = -1;
    else if (!this.quorum(n)) rv = -25;
    // A peer that is connected to a Primary declines the cluster-wide state change.
    else if (this.component(n).some((x) => x !== n && this.role.get(x) === "Primary")) rv = -10;
    if (rv) return { code: 11, stderr: `${this.res}: State change failed: (${rv}) ${STATE_ERR[rv]}\n` };
    this.role.set(n, "Primary");
    this.quorateAtPromote.set(n, ++this.promotions);
    this.publish();
    return { code: 0, stderr: "" };
  }

  secondary(n: string, force = false): { code: number; stderr: string } {
    if (!this.up.get(n)) return { code: 10, stderr: `${this.res}: No such resource\n` };
    if (this.open.get(n) && !force) return { code: 11, stderr: `${this.res}: State change failed: (-12) ${STATE_ERR[-12]}\n` };
    if (this.role.get(n) === "Secondary") return { code: 0, stderr: "" };
    this.role.set(n, "Secondary");
    this.open.set(n, false);
    this.publish();
    return { code: 0, stderr: "" };
  }
}
