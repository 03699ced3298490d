// The model's `status --json` against the format drbd-utils really prints, not against our own
// simulator. FORMAT is read off drbd-utils' printer (user/v9/drbdsetup.c: resource_status_json,
// device_status_json, connection_status_json, path_status_json, peer_device_status_json,
// address_json, af_to_str, sort_resources, sort_connections; the enum strings from drbdmon's labels).
// drbdsetup-status.real.json is hand-written from those printf format strings (a Primary resyncing
// to one peer over IPv6, the other peer connecting), so the checker is seen to accept real output.
// drbd-utils 9.22 (Debian bookworm) prints the same minus "open", "tls" and "paths", added later.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeEvents2Text } from "../../src/drbd/events2.ts";
import { DrbdModel } from "../../src/drbd/model.ts";
import { initialDump, makeResource } from "../helpers/drbd-cluster.ts";

const streams = join(import.meta.dir, "streams");

const ROLE = ["Primary", "Secondary", "Unknown"];
const DISK = ["Diskless", "Attaching", "Detaching", "Failed", "Negotiating", "Inconsistent", "Outdated", "DUnknown", "Consistent", "UpToDate"];
const CONN = ["StandAlone", "Disconnecting", "Unconnected", "Timeout", "BrokenPipe", "NetworkFailure", "ProtocolError", "Connecting", "TearDown", "Connected"];
const REPL = ["Off", "Established", "StartingSyncS", "StartingSyncT", "WFBitMapS", "WFBitMapT", "WFSyncUUID", "SyncSource", "SyncTarget",
  "VerifyS", "VerifyT", "PausedSyncS", "PausedSyncT", "Ahead", "Behind"];
const RESYNC_SUSP = ["no", "user", "peer", "user,peer", "dependency", "user,dependency", "peer,dependency", "user,peer,dependency"];
/** peer_device_status_json prints percent-resync-done without sync details only in these states. */
const RESYNC = ["SyncSource", "SyncTarget", "PausedSyncS", "PausedSyncT"];

type Kind = "string" | "int" | "uint" | "bool" | "percent" | "array" | "address" | string[];
const FORMAT: Record<string, [string, Kind][]> = {
  resource: [["name", "string"], ["node-id", "int"], ["role", ROLE], ["suspended", "bool"], ["suspended-user", "bool"],
    ["suspended-no-data", "bool"], ["suspended-fencing", "bool"], ["suspended-quorum", "bool"], ["force-io-failures", "bool"],
    ["write-ordering", ["none", "drain", "flush", "barrier"]], ["devices", "array"], ["connections", "array"]],
  device: [["volume", "uint"], ["minor", "uint"], ["disk-state", DISK], ["client", "bool"], ["open", "bool"], ["quorum", "bool"],
    ["size", "uint"], ["read", "uint"], ["written", "uint"], ["al-writes", "uint"], ["bm-writes", "uint"],
    ["upper-pending", "uint"], ["lower-pending", "uint"]],
  connection: [["peer-node-id", "uint"], ["name", "string"], ["connection-state", CONN], ["congested", "bool"], ["peer-role", ROLE],
    ["tls", "bool"], ["ap-in-flight", "uint"], ["rs-in-flight", "uint"], ["paths", "array"], ["peer_devices", "array"]],
  path: [["this_host", "address"], ["remote_host", "address"], ["established", "bool"]],
  address: [["address", "string"], ["port", "uint"], ["family", ["ipv4", "ipv6", "ssocks", "sdp"]]],
  // Without sync details (the model has none: events2 does not carry rs-total & co).
  peerDevice: [["volume", "uint"], ["replication-state", REPL], ["peer-disk-state", DISK], ["peer-client", "bool"],
    ["resync-suspended", RESYNC_SUSP], ["received", "uint"], ["sent", "uint"], ["out-of-sync", "uint"], ["pending", "uint"],
    ["unacked", "uint"], ["has-sync-details", "bool"], ["has-online-verify-details", "bool"], ["percent-in-sync", "percent"]],
};

/** Every way `doc` differs from what drbdsetup prints, as "where: what" lines (empty when none). */
function formatErrors(doc: unknown): string[] {
  const errs: string[] = [];
  const kindOk = (k: Kind, v: unknown): boolean => {
    if (Array.isArray(k)) return typeof v === "string" && k.includes(v);
    switch (k) {
      case "string": return typeof v === "string";
      case "int": return Number.isInteger(v) && (v as number) >= -1;
      case "uint": return Number.isInteger(v) && (v as number) >= 0;
      case "bool": return typeof v === "boolean";
      // printf("%.2f"): at most two decimals, 0..100
      case "percent": return typeof v === "number" && v >= 0 && v <= 100 && Number(v.toFixed(2)) === v;
      case "array": return Array.isArray(v);
      case "address": return typeof v === "object" && v !== null;
    }
  };
  const check = (what: string, where: string, o: Record<string, unknown>, extra: [string, Kind][] = []) => {
    const want = [...FORMAT[what]!, ...extra];
    const keys = Object.keys(o);
    if (keys.join(",") !== want.map(([k]) => k).join(",")) errs.push(`${where}: keys ${keys.join(",")} != ${want.map(([k]) => k).join(",")}`);
    for (const [k, kind] of want) if (k in o && !kindOk(kind, o[k])) errs.push(`${where}.${k}: ${JSON.stringify(o[k])} is not ${kind}`);
  };
  const sortedBy = (where: string, names: string[]) => {
    const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)); // strcmp
    if (names.join("\0") !== sorted.join("\0")) errs.push(`${where}: not sorted by name (${names.join(",")})`);
  };
  if (!Array.isArray(doc)) return ["top level is not an array"];
  const resources = doc as Record<string, unknown>[];
  sortedBy("resources", resources.map((r) => r.name as string));
  for (const r of resources) {
    const rw = `${r.name}`;
    check("resource", rw, r);
    const devices = (r.devices ?? []) as Record<string, unknown>[];
    devices.forEach((d, i) => check("device", `${rw}.devices[${i}]`, d));
    const sizes = new Map(devices.map((d) => [d.volume, d.size as number]));
    const conns = (r.connections ?? []) as Record<string, unknown>[];
    sortedBy(`${rw}.connections`, conns.map((c) => c.name as string));
    for (const c of conns) {
      const cw = `${rw}.${c.name}`;
      check("connection", cw, c);
      ((c.paths ?? []) as Record<string, unknown>[]).forEach((p, i) => {
        check("path", `${cw}.paths[${i}]`, p);
        for (const side of ["this_host", "remote_host"]) check("address", `${cw}.paths[${i}].${side}`, p[side] as Record<string, unknown>);
      });
      for (const p of (c.peer_devices ?? []) as Record<string, unknown>[]) {
        const pw = `${cw}.volume${p.volume}`;
        const resync = RESYNC.includes(p["replication-state"] as string) && p["has-sync-details"] === false;
        check("peerDevice", pw, p, resync ? [["percent-resync-done", "percent"]] : []);
        const size = sizes.get(p.volume) ?? 0;
        const inSync = size === 0 ? 0 : 100 * (1 - (p["out-of-sync"] as number) / size);
        if (Math.abs((p["percent-in-sync"] as number) - inSync) > 0.005 + 1e-9) errs.push(`${pw}.percent-in-sync: ${p["percent-in-sync"]} != ${inSync.toFixed(2)}`);
      }
    }
  }
  return errs;
}

function modelOf(text: string): DrbdModel {
  const m = new DrbdModel();
  for (const rec of decodeEvents2Text(text)) m.apply(rec, () => {});
  return m;
}

describe("status --json in drbdsetup's real format", () => {
  test("the checker accepts drbdsetup's output, hand-written from its printer", () => {
    expect(formatErrors(JSON.parse(readFileSync(join(streams, "drbdsetup-status.real.json"), "utf8")))).toEqual([]);
  });

  test("the checker finds a wrong key order, a missing key, a wrong value shape and an unsorted list", () => {
    const real = JSON.parse(readFileSync(join(streams, "drbdsetup-status.real.json"), "utf8"));
    const [alice, bob] = real[0].connections;
    real[0].connections = [bob, alice];
    delete real[0].devices[0].open;
    alice.peer_devices[0]["percent-in-sync"] = 99.926;
    bob["connection-state"] = "WFConnection"; // DRBD 8.4's name
    expect(formatErrors(real)).toEqual([
      "r0.devices[0]: keys volume,minor,disk-state,client,quorum,size,read,written,al-writes,bm-writes,upper-pending,lower-pending != volume,minor,disk-state,client,open,quorum,size,read,written,al-writes,bm-writes,upper-pending,lower-pending",
      "r0.connections: not sorted by name (bob,alice)",
      "r0.bob.connection-state: \"WFConnection\" is not StandAlone,Disconnecting,Unconnected,Timeout,BrokenPipe,NetworkFailure,ProtocolError,Connecting,TearDown,Connected",
      "r0.alice.volume0.percent-in-sync: 99.926 is not percent",
    ]);
  });

  for (const name of ["lifecycle", "dump"]) {
    test(`the model after ${name}.events2, and its expected ${name}.status.json, have that format`, () => {
      expect(formatErrors(modelOf(readFileSync(join(streams, `${name}.events2`), "utf8")).toStatusJson())).toEqual([]);
      expect(formatErrors(JSON.parse(readFileSync(join(streams, `${name}.status.json`), "utf8")))).toEqual([]);
    });
  }

  test("connections are listed by name, not node id; an IPv6 path loses its brackets; a resync without details has percent-resync-done", () => {
    const r = makeResource("zz", 1200, 1, ["zed", "amy"], 0); // zed is node 1, amy node 2
    r.connections[1]!.local = "ipv6:[fd00::1]:7200";
    r.connections[1]!.remote = "ipv6:[fd00::3]:7200";
    const p = r.connections[1]!.peerDevices[0]!;
    p.replication = "SyncTarget"; p.peerDisk = "UpToDate"; p.outOfSync = 524288;
    r.devices[0]!.disk = "Inconsistent";
    const doc = modelOf(initialDump([r]).join("\n") + "\n").toStatusJson() as Record<string, any>[];
    expect(formatErrors(doc)).toEqual([]);
    const conns = doc[0]!.connections;
    expect(conns.map((c: any) => [c.name, c["peer-node-id"]])).toEqual([["amy", 2], ["zed", 1]]);
    expect(conns[0].paths[0].this_host).toEqual({ address: "fd00::1", port: 7200, family: "ipv6" });
    expect(conns[0].peer_devices[0]).toMatchObject({ "percent-in-sync": 50, "percent-resync-done": 50, "has-sync-details": false });
    expect("percent-resync-done" in conns[1].peer_devices[0]).toBe(false);
  });
});
