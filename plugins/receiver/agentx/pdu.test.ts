// AgentX PDUs: byte layouts from RFC 2741 (written out by hand here, not produced by the encoder),
// both byte orders, and hostile input: truncation, huge lengths, wrong version, bad counts.
import { describe, expect, test } from "bun:test";
import {
  AgentxError, decodeHeader, decodePdu, encodeClose, encodeMasterResponse, encodeOpen, encodePing, encodeRegister,
  encodeRequest, encodeResponse, MAX_PAYLOAD, PDU, PduFramer, VT,
} from "./pdu.ts";

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

/** A header: version 1, type, flags, reserved, then session, transaction, packet ids and length. */
function header(type: number, flags: number, len: number, little = false, ids = [7, 8, 9]): string {
  const u32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, little);
    return toHex(b);
  };
  return `01${type.toString(16).padStart(2, "0")}${flags.toString(16).padStart(2, "0")}00${ids.map(u32).join("")}${u32(len)}`;
}

describe("encode", () => {
  test("encodeOpen() writes RFC 2741 6.2.1: timeout, prefix-compressed id, padded description", () => {
    const b = encodeOpen({ type: PDU.Open, packetId: 1 }, 60, [1, 3, 6, 1, 4, 1, 23302], "abcde");
    expect(toHex(b)).toBe(
      "01011000" + "00000000" + "00000000" + "00000001" + "0000001c" + // header, NETWORK_BYTE_ORDER
      "3c000000" + // timeout 60
      "02040000" + "00000001" + "00005b06" + // n_subid 2, prefix 4 (1.3.6.1.4), 1.23302
      "00000005" + "6162636465000000", // "abcde" padded to 8
    );
  });

  test("encodeRegister() uses priority 127, the session id and the subtree", () => {
    const b = encodeRegister({ type: PDU.Register, sessionId: 0x42, packetId: 2 }, [1, 3, 6, 1, 4, 1, 23302]);
    expect(toHex(b)).toBe("01031000" + "00000042" + "00000000" + "00000002" + "00000010" + "007f0000" + "02040000" + "00000001" + "00005b06");
  });

  test("encodeClose() and encodePing() carry no more than they must", () => {
    expect(toHex(encodeClose({ type: PDU.Close, sessionId: 5 }, 5))).toBe("01021000" + "00000005" + "00000000" + "00000000" + "00000004" + "05000000");
    expect(toHex(encodePing({ type: PDU.Ping, sessionId: 5, packetId: 3 }))).toBe("010d1000" + "00000005" + "00000000" + "00000003" + "00000000");
  });

  test("encodeResponse() echoes the request's ids; every varbind type is laid out per 5.4", () => {
    const req = decodeHeader(hex(header(PDU.Get, 0x10, 0)));
    const b = encodeResponse(req, 0, 0, [
      { type: VT.Integer, name: [1, 2], value: -1 },
      { type: VT.Counter64, name: [1, 3], value: 2n ** 40n + 1n },
      { type: VT.OctetString, name: [1, 3, 6, 1, 4, 1, 23302, 1, 1, 1], value: new TextEncoder().encode("9.2") },
      { type: VT.Gauge32, name: [1, 4], value: 4294967295 },
      { type: VT.NoSuchObject, name: [1, 5], value: null },
    ]);
    expect(toHex(b)).toBe(
      "01121000" + "00000007" + "00000008" + "00000009" + "0000007c" + // 124 payload bytes
      "00000000" + "00000000" + // sysUpTime, error, index
      "00020000" + "02000000" + "00000001" + "00000002" + "ffffffff" +
      "00460000" + "02000000" + "00000001" + "00000003" + "0000010000000001" +
      "00040000" + "05040000" + "00000001" + "00005b06" + "00000001" + "00000001" + "00000001" + "00000003" + "392e3200" +
      "00420000" + "02000000" + "00000001" + "00000004" + "ffffffff" +
      "00800000" + "02000000" + "00000001" + "00000005",
    );
  });
});

describe("decode", () => {
  test("a GetNext in network byte order: ranges with include and end", () => {
    const payload = "02040100" + "00000001" + "00005b06" + "02040000" + "00000001" + "00005b07";
    const p = decodePdu(hex(header(PDU.GetNext, 0x10, payload.length / 2) + payload));
    expect(p.type).toBe(PDU.GetNext);
    if (!("ranges" in p)) throw new Error("no ranges");
    expect(p.header).toMatchObject({ sessionId: 7, transactionId: 8, packetId: 9 });
    expect(p.ranges).toEqual([{ start: [1, 3, 6, 1, 4, 1, 23302], include: true, end: [1, 3, 6, 1, 4, 1, 23303] }]);
  });

  test("the same Get in little-endian byte order (flag clear), with a non-default context", () => {
    const payload = "03000000" + "61626300" + "03000000" + "01000000" + "02000000" + "03000000" + "00000000";
    const p = decodePdu(hex(header(PDU.Get, 0x08, payload.length / 2, true) + payload));
    if (!("ranges" in p)) throw new Error("no ranges");
    expect(p.header.packetId).toBe(9);
    expect(new TextDecoder().decode(p.context)).toBe("abc");
    expect(p.ranges).toEqual([{ start: [1, 2, 3], include: false, end: [] }]);
  });

  test("GetBulk reads non_repeaters and max_repetitions", () => {
    const p = decodePdu(encodeRequest({ type: PDU.GetBulk }, [{ start: [1, 3], include: false, end: [] }], { nonRepeaters: 1, maxRepetitions: 10 }));
    expect(p).toMatchObject({ type: PDU.GetBulk, nonRepeaters: 1, maxRepetitions: 10, ranges: [{ start: [1, 3] }] });
  });

  test("a master's Response: session id, error and varbinds round-trip", () => {
    const p = decodePdu(encodeMasterResponse({ type: PDU.Response, sessionId: 77, packetId: 3 }, 263,
      [{ type: VT.OctetString, name: [1, 3, 6, 1, 2, 1, 1, 1, 0], value: new Uint8Array([1, 2, 3, 4, 5]) }]));
    expect(p).toMatchObject({ type: PDU.Response, error: 263, header: { sessionId: 77, packetId: 3 } });
    if (!("varbinds" in p)) throw new Error("no varbinds");
    expect(p.varbinds[0]).toEqual({ type: VT.OctetString, name: [1, 3, 6, 1, 2, 1, 1, 1, 0], value: new Uint8Array([1, 2, 3, 4, 5]) });
  });

  test("Close carries its reason", () => {
    expect(decodePdu(hex(header(PDU.Close, 0x10, 4) + "05000000"))).toMatchObject({ type: PDU.Close, reason: 5 });
  });
});

describe("hostile input", () => {
  const bad = (b: Uint8Array) => expect(() => decodePdu(b)).toThrow(AgentxError);

  test("wrong version, unknown type, a length that is huge or not a multiple of 4", () => {
    bad(hex("02" + header(PDU.Get, 0x10, 0).slice(2)));
    bad(hex(header(0, 0x10, 0)));
    bad(hex(header(99, 0x10, 0)));
    bad(hex(header(PDU.Get, 0x10, 0xffffffff)));
    bad(hex(header(PDU.Get, 0x10, MAX_PAYLOAD + 4)));
    bad(hex(header(PDU.Get, 0x10, 6) + "000000000000"));
  });

  test("every truncation of valid PDUs throws, never reads out of bounds", () => {
    const pdus = [
      encodeRequest({ type: PDU.GetNext }, [{ start: [1, 3, 6, 1, 4, 1, 23302, 1], include: true, end: [1, 3, 6, 1, 4, 1, 23303] }]),
      encodeMasterResponse({ type: PDU.Response }, 0, [{ type: VT.Counter64, name: [1, 3, 6, 1, 9], value: 5n }]),
      hex(header(PDU.Close, 0x10, 4) + "05000000"),
    ];
    for (const p of pdus) {
      for (let n = 0; n < p.byteLength; n++) bad(p.subarray(0, n));
    }
  });

  test("a payload shorter than its own fields: OID count past the end, octet string longer than the PDU", () => {
    bad(hex(header(PDU.Get, 0x10, 4) + "ff000000")); // 255 sub-identifiers, over the SMI's 128
    bad(hex(header(PDU.Get, 0x10, 8) + "05000000" + "00000001")); // says 5, has 1
    bad(hex(header(PDU.Get, 0x18, 8) + "7fffffff" + "00000000")); // context of 2 GiB
    bad(hex(header(PDU.Response, 0x10, 8) + "00000000" + "00000000" + "").subarray(0, 20 + 4));
    bad(hex(header(PDU.Response, 0x10, 16) + "00000000" + "00000000" + "00090000" + "00000000")); // unknown varbind type 9
    bad(hex(header(PDU.GetBulk, 0x10, 0)));
  });

  test("PduFramer splits a byte-at-a-time stream and rejects a poisoned header", () => {
    const a = encodePing({ type: PDU.Ping, packetId: 1 });
    const b = encodeRequest({ type: PDU.Get, packetId: 2 }, [{ start: [1, 3, 6], include: false, end: [] }]);
    const stream = new Uint8Array([...a, ...b]);
    const f = new PduFramer();
    const got: Uint8Array[] = [];
    for (const byte of stream) got.push(...f.push(new Uint8Array([byte])));
    expect(got.map(toHex)).toEqual([toHex(a), toHex(b)]);
    expect(f.pending).toBe(0);
    expect(() => new PduFramer().push(hex(header(PDU.Get, 0x10, 0x7ffffff0)))).toThrow(/payload length/);
    expect(() => new PduFramer().push(hex("03" + header(PDU.Get, 0x10, 0).slice(2)))).toThrow(/version 3/);
  });

  test("random payloads and mutated valid PDUs fail only with AgentxError", () => {
    let seed = 1;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const valid = [
      encodeRequest({ type: PDU.GetBulk }, [{ start: [1, 3, 6, 1, 4, 1, 23302], include: false, end: [1, 3, 6, 1, 4, 1, 23303] }], { nonRepeaters: 0, maxRepetitions: 5 }),
      encodeMasterResponse({ type: PDU.Response }, 0, [{ type: VT.OctetString, name: [1, 3, 6, 1, 9], value: new Uint8Array(7) }]),
    ];
    const tryDecode = (b: Uint8Array) => {
      try {
        decodePdu(b);
      } catch (e) {
        expect(e).toBeInstanceOf(AgentxError);
      }
    };
    for (let i = 0; i < 3000; i++) {
      const len = 20 + 4 * Math.floor(rnd() * 16);
      const b = new Uint8Array(len).map(() => Math.floor(rnd() * 256));
      b[0] = 1;
      b[1] = 1 + Math.floor(rnd() * 18);
      b[2] = rnd() < 0.5 ? 0x10 : 0x18;
      new DataView(b.buffer).setUint32(16, len - 20, false);
      tryDecode(b);
      const m = valid[i % valid.length]!.slice();
      for (let k = 0; k < 3; k++) m[20 + Math.floor(rnd() * (m.byteLength - 20))] = Math.floor(rnd() * 256);
      tryDecode(m);
    }
  });
});
