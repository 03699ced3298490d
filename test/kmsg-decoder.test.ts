// The /dev/kmsg record decoder (src/kmsg/record.ts, its native twin in native/src/kmsg_record.cc):
// fixture cases (testdata/<case>/input.kmsg -> expected.ndjson), the escape rules, hostile input.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { decodeKmsgRecord, kmsgUnescape, KmsgStatus, splitKmsgRecords } from "../src/kmsg/record.ts";
import { fixtureCases, view } from "./kmsg-fixtures.ts";
import { golden } from "./helpers/golden.ts";

describe("decodeKmsgRecord() fixture cases", () => {
  for (const c of fixtureCases()) {
    test(`${c.name}: records equal expected.ndjson`, () => {
      const got = [...splitKmsgRecords(c.input.toString("utf8"))].map((r) => JSON.stringify(view(decodeKmsgRecord(r))));
      const text = got.join("\n") + "\n";
      expect(text).toBe(golden(join(c.dir, "expected.ndjson"), text));
    });
  }
});

describe("decodeKmsgRecord()", () => {
  test("splits the prefix into facility and level and keeps continuation props", () => {
    const d = decodeKmsgRecord("27,4120,8804563512,-;sd 2:0:0:1: [sdb] tag#3 timing out command\n SUBSYSTEM=scsi\n DEVICE=+scsi:2:0:0:1\n");
    expect(d.status).toBe(KmsgStatus.ok);
    expect(d.record).toMatchObject({ priority: 3, facility: 3, seq: 4120, ts_us: 8804563512, flags: "-" });
    expect(d.record.msg).toBe("sd 2:0:0:1: [sdb] tag#3 timing out command");
    expect({ ...d.record.props }).toEqual({ SUBSYSTEM: "scsi", DEVICE: "+scsi:2:0:0:1" });
    expect(d.record.raw).toBe("27,4120,8804563512,-;sd 2:0:0:1: [sdb] tag#3 timing out command\n SUBSYSTEM=scsi\n DEVICE=+scsi:2:0:0:1");
  });

  test("ignores header fields after the flags (CONFIG_PRINTK_CALLER)", () => {
    const d = decodeKmsgRecord("6,5,7,c,caller=T812;x");
    expect(d.record).toMatchObject({ seq: 5, ts_us: 7, flags: "c", msg: "x" });
  });

  test("reports each kind of malformed header and never throws", () => {
    expect(decodeKmsgRecord("").status).toBe(KmsgStatus.empty);
    expect(decodeKmsgRecord("6,1,2,- no semicolon").status).toBe(KmsgStatus.no_semicolon);
    expect(decodeKmsgRecord("6,1,2\n x=;y").status).toBe(KmsgStatus.no_semicolon);
    expect(decodeKmsgRecord("6,1,2;msg").status).toBe(KmsgStatus.bad_header);
    expect(decodeKmsgRecord("6,1,-2,-;msg").status).toBe(KmsgStatus.bad_number);
    expect(decodeKmsgRecord("6,9007199254740992,2,-;msg").status).toBe(KmsgStatus.bad_number);
    expect(decodeKmsgRecord("6,9007199254740991,2,-;msg").record.seq).toBe(9007199254740991);
    expect(decodeKmsgRecord("6,1,2,?;msg").status).toBe(KmsgStatus.bad_flags);
  });

  test("counts continuation lines that are not ' KEY=value' and skips them", () => {
    const d = decodeKmsgRecord("6,1,2,-;m\n SUBSYSTEM\n =v\nNOSPACE=1\n DEVICE=b8:16");
    expect(d.badProps).toBe(3);
    expect({ ...d.record.props }).toEqual({ DEVICE: "b8:16" });
  });
});

describe("kmsgUnescape()", () => {
  test("decodes printable ASCII, backslash and well-formed UTF-8 escapes", () => {
    expect(kmsgUnescape("C:\\x5cdir \\x41")).toBe("C:\\dir A");
    expect(kmsgUnescape("caf\\xc3\\xa9 \\xE2\\x82\\xAC \\xf0\\x9f\\x98\\x80")).toBe("café € 😀");
  });
  test("keeps control, DEL, C1 and invalid UTF-8 escapes as written", () => {
    expect(kmsgUnescape("a\\x09b\\x0ac\\x7f\\xc2\\x85")).toBe("a\\x09b\\x0ac\\x7f\\xc2\\x85");
    expect(kmsgUnescape("\\xc3\\x28 \\xc0\\xaf \\xed\\xa0\\x80 \\xe2\\x82")).toBe("\\xc3( \\xc0\\xaf \\xed\\xa0\\x80 \\xe2\\x82");
  });
  test("leaves incomplete escapes alone", () => {
    expect(kmsgUnescape("\\x4 \\xzz \\x tail\\")).toBe("\\x4 \\xzz \\x tail\\");
  });
});

describe("decodeKmsgRecord() hostile input", () => {
  test("a 10 MB record decodes completely", () => {
    const msg = "A".repeat(10 << 20);
    const d = decodeKmsgRecord(`3,1,2,-;${msg}\n SUBSYSTEM=block`);
    expect(d.record.msg.length).toBe(10 << 20);
    expect(d.record.props.SUBSYSTEM).toBe("block");
  });
  test("a 10 MB header of digits is a bad number, not a hang or crash", () => {
    expect(decodeKmsgRecord(`6,${"9".repeat(10 << 20)},1,-;x`).status).toBe(KmsgStatus.bad_number);
  });
  test("NUL bytes and invalid UTF-8 pass through the message", () => {
    const text = Buffer.from([...Buffer.from("6,1,2,-;a"), 0, 0xff, 0xc3, ...Buffer.from(" b")]).toString("utf8");
    const d = decodeKmsgRecord(text);
    expect(d.status).toBe(KmsgStatus.ok);
    expect(d.record.msg).toBe("a\u0000\ufffd\ufffd b");
  });
  test("a record cut inside KEY=value keeps the good props", () => {
    const d = decodeKmsgRecord("6,1,2,-;m\n SUBSYSTEM=scsi\n DEVI");
    expect(d.badProps).toBe(1);
    expect({ ...d.record.props }).toEqual({ SUBSYSTEM: "scsi" });
  });
});

describe("splitKmsgRecords()", () => {
  test("groups continuation lines with their record and skips empty lines", () => {
    expect([...splitKmsgRecords("6,1,2,-;a\n K=v\n\n6,2,3,-;b\n K=w")]).toEqual(["6,1,2,-;a\n K=v", "6,2,3,-;b\n K=w"]);
  });
  test("an orphan continuation line is a record of its own (and decodes as bad)", () => {
    const recs = [...splitKmsgRecords(" K=v\n6,1,2,-;a")];
    expect(recs).toEqual([" K=v", "6,1,2,-;a"]);
    expect(decodeKmsgRecord(recs[0]!).status).toBe(KmsgStatus.no_semicolon);
  });
});
