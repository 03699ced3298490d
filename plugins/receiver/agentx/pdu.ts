// AgentX (RFC 2741) PDUs: a pure encoder and decoder. We always send in network byte order (the
// NETWORK_BYTE_ORDER flag set); we read either order, as the header's flag says. Anything the
// master sends is hostile input: every length is checked before it is used.

export type Oid = readonly number[];

export const PDU = {
  Open: 1, Close: 2, Register: 3, Unregister: 4, Get: 5, GetNext: 6, GetBulk: 7, TestSet: 8, CommitSet: 9,
  UndoSet: 10, CleanupSet: 11, Notify: 12, Ping: 13, IndexAllocate: 14, IndexDeallocate: 15, AddAgentCaps: 16,
  RemoveAgentCaps: 17, Response: 18,
} as const;

export const FLAG = { InstanceRegistration: 0x01, NewIndex: 0x02, AnyIndex: 0x04, NonDefaultContext: 0x08, NetworkByteOrder: 0x10 } as const;

/** Varbind types (RFC 2741 5.4). */
export const VT = {
  Integer: 2, OctetString: 4, Null: 5, ObjectIdentifier: 6, IpAddress: 64, Counter32: 65, Gauge32: 66,
  TimeTicks: 67, Opaque: 68, Counter64: 70, NoSuchObject: 128, NoSuchInstance: 129, EndOfMibView: 130,
} as const;

/** Response errors: SNMP's (RFC 3416) and AgentX's own (RFC 2741 6.2.16). */
export const ERR = {
  NoError: 0, GenErr: 5, NotWritable: 17, OpenFailed: 256, NotOpen: 257, DuplicateRegistration: 263,
  UnknownRegistration: 264, ParseError: 266, RequestDenied: 267, ProcessingError: 268,
} as const;

export const CLOSE_REASON = { Other: 1, ParseError: 2, ProtocolError: 3, Timeouts: 4, Shutdown: 5, ByManager: 6 } as const;

export const HEADER_LEN = 20;
/** Far above any real request (net-snmp's own limit is a few KiB); more is a broken or hostile peer. */
export const MAX_PAYLOAD = 1 << 20;
const MAX_SUBIDS = 128; // RFC 2578: an OID has at most 128 sub-identifiers

export interface Header {
  version: number;
  type: number;
  flags: number;
  sessionId: number;
  transactionId: number;
  packetId: number;
  payloadLength: number;
}

export type VarBindValue = number | bigint | Uint8Array | Oid | null;
export interface VarBind { type: number; name: Oid; value: VarBindValue }
export interface SearchRange { start: Oid; include: boolean; end: Oid }

export type Pdu =
  | { type: typeof PDU.Get | typeof PDU.GetNext; header: Header; context?: Uint8Array; ranges: SearchRange[] }
  | {
    type: typeof PDU.GetBulk; header: Header; context?: Uint8Array; nonRepeaters: number; maxRepetitions: number;
    ranges: SearchRange[];
  }
  | { type: typeof PDU.Response; header: Header; sysUpTime: number; error: number; index: number; varbinds: VarBind[] }
  | { type: typeof PDU.Close; header: Header; reason: number }
  | { type: number; header: Header; other: true };

export class AgentxError extends Error {}

// ---- decoding ------------------------------------------------------------------------------------

class Reader {
  private pos = 0;
  constructor(private view: DataView, private little: boolean) {}
  get left(): number {
    return this.view.byteLength - this.pos;
  }
  private need(n: number, what: string): void {
    if (n > this.left) throw new AgentxError(`truncated ${what}: need ${n} bytes, have ${this.left}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, this.little);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, this.little);
    this.pos += 4;
    return v;
  }
  u64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, this.little);
    this.pos += 8;
    return v;
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = new Uint8Array(this.view.buffer, this.view.byteOffset + this.pos, n).slice();
    this.pos += n;
    return b;
  }
  /** RFC 2741 5.1: n_subid, prefix, include, reserved, then n_subid 32-bit sub-identifiers. */
  oid(what: string): { oid: number[]; include: boolean } {
    const n = this.u8(what);
    const prefix = this.u8(what);
    const include = this.u8(what) !== 0;
    this.u8(what);
    if (n > MAX_SUBIDS) throw new AgentxError(`${what}: ${n} sub-identifiers (at most ${MAX_SUBIDS})`);
    const oid: number[] = prefix !== 0 ? [1, 3, 6, 1, prefix] : [];
    for (let i = 0; i < n; i++) oid.push(this.u32(what));
    return { oid, include };
  }
  /** RFC 2741 5.3: a 32-bit length, the octets, padding to a multiple of 4. */
  octets(what: string): Uint8Array {
    const len = this.u32(what);
    if (len > this.left) throw new AgentxError(`truncated ${what}: length ${len}, have ${this.left}`);
    const b = this.bytes(len, what);
    this.bytes((4 - (len % 4)) % 4, what);
    return b;
  }
}

/** The 20-byte header; throws on a version other than 1 or an impossible payload length. */
export function decodeHeader(buf: Uint8Array): Header {
  if (buf.byteLength < HEADER_LEN) throw new AgentxError(`truncated header: ${buf.byteLength} bytes`);
  const view = new DataView(buf.buffer, buf.byteOffset, HEADER_LEN);
  const flags = view.getUint8(2);
  const little = (flags & FLAG.NetworkByteOrder) === 0;
  const h: Header = {
    version: view.getUint8(0), type: view.getUint8(1), flags, sessionId: view.getUint32(4, little),
    transactionId: view.getUint32(8, little), packetId: view.getUint32(12, little), payloadLength: view.getUint32(16, little),
  };
  if (h.version !== 1) throw new AgentxError(`unsupported AgentX version ${h.version}`);
  if (h.payloadLength > MAX_PAYLOAD) throw new AgentxError(`payload length ${h.payloadLength} over ${MAX_PAYLOAD}`);
  if (h.payloadLength % 4 !== 0) throw new AgentxError(`payload length ${h.payloadLength} is not a multiple of 4`);
  return h;
}

function decodeVarBind(r: Reader): VarBind {
  const type = r.u16("varbind type");
  r.u16("varbind");
  const name = r.oid("varbind name").oid;
  let value: VarBindValue = null;
  switch (type) {
    case VT.Integer: case VT.Counter32: case VT.Gauge32: case VT.TimeTicks:
      value = r.u32("varbind value");
      if (type === VT.Integer) value = value | 0;
      break;
    case VT.Counter64: value = r.u64("varbind value"); break;
    case VT.OctetString: case VT.IpAddress: case VT.Opaque: value = r.octets("varbind value"); break;
    case VT.ObjectIdentifier: value = r.oid("varbind value").oid; break;
    case VT.Null: case VT.NoSuchObject: case VT.NoSuchInstance: case VT.EndOfMibView: break;
    default: throw new AgentxError(`unknown varbind type ${type}`);
  }
  return { type, name, value };
}

function decodeRanges(r: Reader): SearchRange[] {
  const ranges: SearchRange[] = [];
  while (r.left > 0) {
    const s = r.oid("search range start");
    const e = r.oid("search range end");
    ranges.push({ start: s.oid, include: s.include, end: e.oid });
  }
  return ranges;
}

/** One whole PDU (header + payload, exactly). Throws AgentxError on anything malformed. */
export function decodePdu(buf: Uint8Array): Pdu {
  const header = decodeHeader(buf);
  if (buf.byteLength !== HEADER_LEN + header.payloadLength) {
    throw new AgentxError(`PDU is ${buf.byteLength} bytes, header says ${HEADER_LEN + header.payloadLength}`);
  }
  const little = (header.flags & FLAG.NetworkByteOrder) === 0;
  const r = new Reader(new DataView(buf.buffer, buf.byteOffset + HEADER_LEN, header.payloadLength), little);
  const context = () => ((header.flags & FLAG.NonDefaultContext) !== 0 ? r.octets("context") : undefined);
  switch (header.type) {
    case PDU.Get: case PDU.GetNext: {
      const ctx = context();
      return { type: header.type, header, context: ctx, ranges: decodeRanges(r) };
    }
    case PDU.GetBulk: {
      const ctx = context();
      const nonRepeaters = r.u16("non_repeaters");
      const maxRepetitions = r.u16("max_repetitions");
      return { type: PDU.GetBulk, header, context: ctx, nonRepeaters, maxRepetitions, ranges: decodeRanges(r) };
    }
    case PDU.Response: {
      const sysUpTime = r.u32("sysUpTime");
      const error = r.u16("error");
      const index = r.u16("index");
      const varbinds: VarBind[] = [];
      while (r.left > 0) varbinds.push(decodeVarBind(r));
      return { type: PDU.Response, header, sysUpTime, error, index, varbinds };
    }
    case PDU.Close: {
      const reason = r.u8("close reason");
      return { type: PDU.Close, header, reason };
    }
    default:
      if (header.type < PDU.Open || header.type > PDU.Response) throw new AgentxError(`unknown PDU type ${header.type}`);
      return { type: header.type, header, other: true };
  }
}

/** Splits a TCP byte stream into whole PDUs. A bad header poisons the stream (no way to resync). */
export class PduFramer {
  private buf = new Uint8Array(0);

  /** Appends bytes and returns each complete PDU's bytes; throws AgentxError on a bad header. */
  push(chunk: Uint8Array): Uint8Array[] {
    const merged = new Uint8Array(this.buf.byteLength + chunk.byteLength);
    merged.set(this.buf);
    merged.set(chunk, this.buf.byteLength);
    const out: Uint8Array[] = [];
    let pos = 0;
    while (merged.byteLength - pos >= HEADER_LEN) {
      const h = decodeHeader(merged.subarray(pos, pos + HEADER_LEN));
      const total = HEADER_LEN + h.payloadLength;
      if (merged.byteLength - pos < total) break;
      out.push(merged.slice(pos, pos + total));
      pos += total;
    }
    this.buf = merged.slice(pos);
    return out;
  }

  get pending(): number {
    return this.buf.byteLength;
  }
}

// ---- encoding ------------------------------------------------------------------------------------

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.byteLength) return;
    const next = new Uint8Array(Math.max(this.buf.byteLength * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.view.setUint8(this.len++, v);
  }
  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.len, v);
    this.len += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.len, v >>> 0);
    this.len += 4;
  }
  u64(v: bigint): void {
    this.room(8);
    this.view.setBigUint64(this.len, BigInt.asUintN(64, v));
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.room(b.byteLength);
    this.buf.set(b, this.len);
    this.len += b.byteLength;
  }
  oid(oid: Oid, include = false): void {
    if (oid.length > MAX_SUBIDS) throw new AgentxError(`OID of ${oid.length} sub-identifiers`);
    // The 1.3.6.1.X prefix shortcut (5.1) when it applies.
    const pre = oid.length >= 5 && oid[0] === 1 && oid[1] === 3 && oid[2] === 6 && oid[3] === 1 && oid[4]! > 0 && oid[4]! < 256;
    const rest = pre ? oid.slice(5) : oid;
    this.u8(rest.length);
    this.u8(pre ? oid[4]! : 0);
    this.u8(include ? 1 : 0);
    this.u8(0);
    for (const s of rest) this.u32(s);
  }
  octets(b: Uint8Array): void {
    this.u32(b.byteLength);
    this.bytes(b);
    for (let i = b.byteLength % 4; i % 4 !== 0; i++) this.u8(0);
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export interface HeaderFields { type: number; sessionId?: number; transactionId?: number; packetId?: number; flags?: number }

function frame(h: HeaderFields, body: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  w.u8(1);
  w.u8(h.type);
  w.u8((h.flags ?? 0) | FLAG.NetworkByteOrder);
  w.u8(0);
  w.u32(h.sessionId ?? 0);
  w.u32(h.transactionId ?? 0);
  w.u32(h.packetId ?? 0);
  w.u32(0); // payload length, filled in below
  body(w);
  const out = w.done();
  new DataView(out.buffer).setUint32(16, out.byteLength - HEADER_LEN);
  return out;
}

const utf8 = new TextEncoder();

/** Open (6.2.1): the session's default timeout in seconds (0..255), our id and description. */
export function encodeOpen(h: HeaderFields, timeout: number, id: Oid, descr: string): Uint8Array {
  return frame({ ...h, type: PDU.Open }, (w) => {
    w.u8(Math.max(0, Math.min(255, timeout)));
    w.u8(0); w.u8(0); w.u8(0);
    w.oid(id);
    w.octets(utf8.encode(descr));
  });
}

/** Register (6.2.3) one subtree; timeout 0 = the session's, priority 127 = RFC default. */
export function encodeRegister(h: HeaderFields, subtree: Oid, priority = 127, timeout = 0): Uint8Array {
  return frame({ ...h, type: PDU.Register }, (w) => {
    w.u8(timeout); w.u8(priority); w.u8(0); w.u8(0);
    w.oid(subtree);
  });
}

export function encodeClose(h: HeaderFields, reason: number): Uint8Array {
  return frame({ ...h, type: PDU.Close }, (w) => {
    w.u8(reason); w.u8(0); w.u8(0); w.u8(0);
  });
}

export function encodePing(h: HeaderFields): Uint8Array {
  return frame({ ...h, type: PDU.Ping }, () => {});
}

function encodeVarBind(w: Writer, vb: VarBind): void {
  w.u16(vb.type);
  w.u16(0);
  w.oid(vb.name);
  const v = vb.value;
  switch (vb.type) {
    case VT.Integer: case VT.Counter32: case VT.Gauge32: case VT.TimeTicks: w.u32(Number(v)); break;
    case VT.Counter64: w.u64(BigInt(v as number | bigint)); break;
    case VT.OctetString: case VT.IpAddress: case VT.Opaque: w.octets(v as Uint8Array); break;
    case VT.ObjectIdentifier: w.oid(v as Oid); break;
    default: break; // Null and the exceptions carry no data
  }
}

/** Response (6.2.16) to a request: echoes its session, transaction and packet ids. */
export function encodeResponse(req: Header, error: number, index: number, varbinds: readonly VarBind[]): Uint8Array {
  return frame(
    { type: PDU.Response, sessionId: req.sessionId, transactionId: req.transactionId, packetId: req.packetId },
    (w) => {
      w.u32(0); // sysUpTime: the master's own is used for SNMP; ours is not meaningful
      w.u16(error);
      w.u16(index);
      for (const vb of varbinds) encodeVarBind(w, vb);
    },
  );
}

/** A request PDU as a master sends it (tests and the fuzz-style checks use this). */
export function encodeRequest(h: HeaderFields, ranges: readonly SearchRange[], bulk?: { nonRepeaters: number; maxRepetitions: number }): Uint8Array {
  return frame(h, (w) => {
    if (bulk) {
      w.u16(bulk.nonRepeaters);
      w.u16(bulk.maxRepetitions);
    }
    for (const r of ranges) {
      w.oid(r.start, r.include);
      w.oid(r.end);
    }
  });
}

/** A Response as a master sends it (tests). */
export function encodeMasterResponse(h: HeaderFields, error: number, varbinds: readonly VarBind[] = []): Uint8Array {
  return frame({ ...h, type: PDU.Response }, (w) => {
    w.u32(0);
    w.u16(error);
    w.u16(0);
    for (const vb of varbinds) encodeVarBind(w, vb);
  });
}

export function compareOid(a: Oid, b: Oid): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length - b.length;
}

export function oidText(o: Oid): string {
  return o.join(".");
}
