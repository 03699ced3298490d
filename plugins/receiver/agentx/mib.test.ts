// The MIB builder and the RFC 2741 lookups, without sockets: sizes, peer-state counts, GetNext
// bounds, GetBulk order, the cache-max rule, and the shipped MIB file agreeing with the code.
import { DRBD_MODEL_SERVICE } from "../../../src/plugin-kit/drbd.ts";
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentxReceiver } from "./index.ts";
import { buildMib, COLUMNS, MibView, sizeToSnmp } from "./mib.ts";
import { parseDrbdVersions as parseDrbdadmVersion } from "../../../src/plugin-kit/drbd.ts";
import { PDU, VT, type Oid } from "./pdu.ts";
import { decodeEvents2Text } from "../../../src/plugin-kit/drbd.ts";
import { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import { makeContext } from "../../../test/helpers/context.ts";

const T = [1, 3, 6, 1, 4, 1, 23302, 1, 2, 1];
const V = { kmod: "9.2.12", utils: "9.28.0" };
const lines = readFileSync(join(import.meta.dir, "../../../test/drbd/streams/lifecycle.events2"), "utf8").split("\n");
const upTo = (prefix: string) => lines.slice(0, lines.findIndex((l) => l.startsWith(prefix)));

function model(text: string[]): DrbdModel {
  const m = new DrbdModel();
  for (const r of decodeEvents2Text(text.join("\n") + "\n")) m.apply(r, () => {});
  return m;
}
const dump = model(upTo("exists -"));
const val = (view: MibView, oid: Oid) => view.get([{ start: oid, include: false, end: [] }])[0]!;

describe("buildMib()", () => {
  test("peer state counters per device: r0 has two UpToDate/Established peers, r1's volumes one each", () => {
    const view = new MibView(buildMib(dump.resources(), V, true));
    expect(val(view, [...T, 24, 1000]).value).toBe(2); // PeerNumberOfPeers
    expect(val(view, [...T, 34, 1000]).value).toBe(2); // PeerDiskUpToDate
    expect(val(view, [...T, 32, 1000]).value).toBe(0); // PeerDiskUnknown (DUnknown)
    expect(val(view, [...T, 36, 1000]).value).toBe(2); // PeerReplEstablished
    expect(val(view, [...T, 24, 1011]).value).toBe(1);
    expect(val(view, [...T, 49, 1011]).value).toBe(0); // PeerReplBehind, the last column
    expect(val(view, [...T, 50, 1011]).type).toBe(VT.NoSuchObject);
  });

  test("peer-states = false serves columns 1..23 only", () => {
    const cols = new Set(buildMib(dump.resources(), V, false).filter((e) => e.name.length === 12).map((e) => e.name[10]));
    expect([...cols].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
  });

  test("types: TruthValue as 1/2, sizes as Gauge32, statistics as Counter64, versions as strings", () => {
    const view = new MibView(buildMib(dump.resources(), V, true));
    expect(val(view, [...T, 7, 1000])).toMatchObject({ type: VT.Integer, value: 1 }); // may_promote:yes
    expect(val(view, [...T, 12, 1000])).toMatchObject({ type: VT.Integer, value: 2 }); // client:no
    expect(val(view, [...T, 14, 1011])).toMatchObject({ type: VT.Gauge32, value: 2097152 });
    expect(val(view, [...T, 16, 1000])).toMatchObject({ type: VT.Counter64, value: 0n });
    expect(new TextDecoder().decode(val(view, [1, 3, 6, 1, 4, 1, 23302, 1, 1, 2]).value as Uint8Array)).toBe("9.28.0");
  });

  test("sizeToSnmp(): KiB in 1024-byte units until 32 bits overflow, then coarser units", () => {
    expect(sizeToSnmp(1048576)).toEqual({ size: 1048576, unit: 1024 });
    expect(sizeToSnmp(0xffffffff)).toEqual({ size: 0xffffffff, unit: 1024 });
    expect(sizeToSnmp(2 ** 32)).toEqual({ size: 2 ** 22, unit: 1024 * 1024 });
    expect(sizeToSnmp(2 ** 41)).toEqual({ size: 2 ** 31, unit: 1024 * 1024 });
    expect(sizeToSnmp(2 ** 52)).toBeNull(); // 4 PiB... in units of 1 TiB: the unit would not fit 32 bits
    expect(sizeToSnmp(Number.MAX_SAFE_INTEGER)).toBeNull(); // the unit would not fit 32 bits
  });

  test("parseDrbdadmVersion(): the *_VERSION_CODE lines, 0.0.0 when absent", () => {
    const out = Bun.spawnSync([join(import.meta.dir, "testdata/bin/drbdadm"), "--version"]).stdout.toString();
    expect(parseDrbdadmVersion(out)).toEqual({ kmod: "9.2.12", utils: "9.28.0" });
    expect(parseDrbdadmVersion("DRBDADM_VERSION_CODE=0x091600\n")).toEqual({ kmod: "0.0.0", utils: "9.22.0" });
  });
});

describe("MibView", () => {
  const view = new MibView(buildMib(dump.resources(), V, true));
  const first = view.entries[0]!.name;
  const last = view.entries.at(-1)!.name;

  test("next(): first object after start, start itself only with include, nothing at or past end", () => {
    expect(view.next({ start: [1, 3, 6, 1, 4, 1, 23302], include: false, end: [1, 3, 6, 1, 4, 1, 23303] }).name).toEqual(first);
    expect(view.next({ start: first, include: true, end: [] }).name).toEqual(first);
    expect(view.next({ start: first, include: false, end: [] }).name).toEqual(view.entries[1]!.name);
    expect(view.next({ start: first, include: false, end: view.entries[1]!.name })).toEqual({ name: first, type: VT.EndOfMibView, value: null });
    expect(view.next({ start: last, include: false, end: [] })).toEqual({ name: last, type: VT.EndOfMibView, value: null });
  });

  test("getBulk(): non-repeaters once, then rounds of repeaters in order; stops when all end", () => {
    const a = { start: [...T, 1], include: false, end: [] };
    const b = { start: [...T, 2], include: false, end: [] };
    const got = view.getBulk(1, 3, [a, a, b]);
    expect(got.map((v) => v.name.slice(10).join("."))).toEqual(["1.1000", "1.1000", "2.1000", "1.1010", "2.1010", "1.1011", "2.1011"]);
    const tail = view.getBulk(0, 10, [{ start: last, include: false, end: [] }]);
    expect(tail).toEqual([{ name: last, type: VT.EndOfMibView, value: null }]);
  });
});

describe("AgentxReceiver cache", () => {
  const get = (r: AgentxReceiver, oid: Oid) => {
    const header = { version: 1, type: PDU.Get, flags: 0x10, sessionId: 1, transactionId: 1, packetId: 1, payloadLength: 0 };
    return r.answer({ type: PDU.Get, header, ranges: [{ start: oid, include: false, end: [] }] })[0]!;
  };
  const roleOf = (r: AgentxReceiver) => new TextDecoder().decode(get(r, [...T, 3, 1000]).value as Uint8Array);

  test("cache-max = 60 keeps the built MIB; 0 reads the model on every request", () => {
    for (const [cacheMax, after] of [[60, "Secondary"], [0, "Primary"]] as const) {
      const m = model(upTo("exists -"));
      const { ctx } = makeContext();
      ctx.services.provide(DRBD_MODEL_SERVICE, m);
      const r = new AgentxReceiver({ address: "localhost:705", "cache-max": cacheMax, "agent-timeout": 60, "peer-states": true }, ctx);
      expect(roleOf(r)).toBe("Secondary");
      const from = lines.indexOf("exists -");
      const to = lines.findIndex((l) => l.startsWith("change resource name:r0 role:Primary"));
      for (const rec of decodeEvents2Text(lines.slice(from, to + 1).join("\n") + "\n")) m.apply(rec, () => {});
      expect(m.resource("r0")!.role).toBe("Primary");
      expect(roleOf(r)).toBe(after);
    }
  });
});

describe("LINBIT-DRBD-MIB.txt", () => {
  const mib = readFileSync(join(import.meta.dir, "LINBIT-DRBD-MIB.txt"), "utf8");

  test("declares every column at the OID the code serves, with a matching type", () => {
    // One OBJECT-TYPE block each: descriptor, SYNTAX, and its place under drbdEntry.
    const decl = mib.split(/\n(?=\w+ OBJECT-TYPE)/)
      .map((b) => /^drbd(\w+) OBJECT-TYPE\s+SYNTAX\s+(\w+)[^]*::= \{ drbdEntry (\d+) \}/.exec(b))
      .filter((d) => d !== null);
    expect(decl.map((d) => [Number(d[3]), d[1]])).toEqual(COLUMNS.map((c, i) => [i + 1, c]));
    const types = new Map(buildMib(dump.resources(), V, true).filter((e) => e.name.length === 12).map((e) => [e.name[10]!, e.type]));
    const vt: Record<string, number> = { Integer32: VT.Integer, TruthValue: VT.Integer, DisplayString: VT.OctetString, Unsigned32: VT.Gauge32, Counter64: VT.Counter64 };
    for (const d of decl) expect([d[1], vt[d[2]!]]).toEqual([d[1], types.get(Number(d[3]))]);
    expect(mib).toMatch(/linbit MODULE-IDENTITY[^]*?::= \{ enterprises 23302 \}/);
    expect(mib).toMatch(/drbdTable OBJECT-TYPE[^]*?::= \{ drbdData 2 \}/);
    expect(mib).toMatch(/drbdModuleVersion OBJECT-TYPE[^]*?::= \{ drbdMeta 1 \}/);
  });

  test("pysmi's SMI grammar accepts it, and rejects a broken copy", () => {
    const mibdump = Bun.which("mibdump");
    if (!mibdump) throw new Error("mibdump is missing: apt-get install python3-pysmi (listed in .ci/apt-packages.txt)");
    // Parse only (format null): the IETF base modules are not needed for the grammar check; no
    // borrowing of compiled MIBs from the network.
    const parse = (dir: string) => Bun.spawnSync([mibdump, `--mib-source=file://${dir}`, "--destination-format=null",
      "--no-dependencies", "--disable-fuzzy-source", `--mib-borrower=file://${dir}/no-borrowing`, "LINBIT-DRBD-MIB"]).stderr.toString();
    const ok = parse(import.meta.dir);
    expect(ok).toContain("Ignored MIBs: LINBIT-DRBD-MIB"); // parsed; nothing to write
    expect(ok).toMatch(/Failed MIBs: *\r?\n/);
    const tmp = mkdtempSync(join(tmpdir(), "agentx14-mib-"));
    try {
      writeFileSync(join(tmp, "LINBIT-DRBD-MIB.txt"), mib.replace("DrbdEntry ::= SEQUENCE {", "DrbdEntry ::= SEQUENCE { broken"));
      expect(parse(tmp)).toContain("Failed MIBs: LINBIT-DRBD-MIB (Bad grammar");
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
