import { describe, expect, test } from "bun:test";
import { parseTimeSpec } from "../../src/control/timespec.ts";
import { parseEventParams } from "../../src/control/server.ts";

const NOW = Date.parse("2026-11-26T12:00:00Z") * 1000;

describe("parseTimeSpec", () => {
  test("parseTimeSpec() reads RFC 3339 with µs, offsets and a space, dates, now and ages", () => {
    expect(parseTimeSpec("2026-11-26T01:02:03Z", NOW)).toBe(Date.parse("2026-11-26T01:02:03Z") * 1000);
    expect(parseTimeSpec("2026-11-26T01:02:03.123456Z", NOW)).toBe(Date.parse("2026-11-26T01:02:03Z") * 1000 + 123456);
    expect(parseTimeSpec("2026-11-26T01:02:03.5+02:00", NOW)).toBe(Date.parse("2026-11-25T23:02:03Z") * 1000 + 500000);
    expect(parseTimeSpec("2026-11-26 01:02", NOW)).toBe(Date.parse("2026-11-26T01:02:00Z") * 1000);
    expect(parseTimeSpec("2026-11-26", NOW)).toBe(Date.parse("2026-11-26T00:00:00Z") * 1000);
    expect(parseTimeSpec("now", NOW)).toBe(NOW);
    expect(parseTimeSpec("90s", NOW)).toBe(NOW - 90e6);
    expect(parseTimeSpec("1h30m", NOW)).toBe(NOW - 5400e6);
    expect(parseTimeSpec("2d ago", NOW)).toBe(NOW - 2 * 86400e6);
    expect(parseTimeSpec("-15m", NOW)).toBe(NOW - 900e6);
  });

  test("parseTimeSpec() rejects what is no time", () => {
    for (const bad of ["", "yesterday", "1 hour", "2026-13-45T99:99:99Z", "2026-11-26T01:02:03Zjunk", "h1", "1x"]) {
      expect(parseTimeSpec(bad, NOW)).toBeUndefined();
    }
  });
});

describe("parseEventParams", () => {
  test("parseEventParams() splits lists, strips /dev/, reads times and flags", () => {
    const q = new URLSearchParams("system=scsi,fs&system=dm&type=SCSI_SENSE&dev=/dev/sdb,sdc&severity=warn&since=1h&until=now&limit=5&order=desc");
    expect(parseEventParams(q, NOW)).toEqual({
      follow: false,
      query: { system: ["scsi", "fs", "dm"], event_type: ["SCSI_SENSE"], dev_name: ["sdb", "sdc"], severity: "warn", since_us: NOW - 3600e6, until_us: NOW, limit: 5, order: "desc" },
    });
    expect(parseEventParams(new URLSearchParams("follow=1&since=10m"), NOW)).toEqual({ follow: true, query: { since_us: NOW - 600e6 } });
    expect(() => parseEventParams(new URLSearchParams("follow=1&until=now"), NOW)).toThrow(/until does not apply/);
  });
});
