import { expect, test } from "bun:test";
import { Folder } from "./fold.ts";
import { formatTime, type StorageEvent } from "../event.ts";

const T0 = Date.UTC(2026, 10, 26) * 1000;
const ev = (t_us: number, msg = "Buffer I/O error on dev sdb, logical block 0", source = "kmsg"): StorageEvent => ({
  event_id: crypto.randomUUID(), time: formatTime(t_us), hostname: "h", severity: "error", system: "block",
  event_type: "BLK_IO_ERROR", dev_name: "sdb", dev_path: "", dev_wwid: "", owners: [], msg, source, raw: msg, extension: {},
});

test("Folder folds identical kernel messages within the window into one event with repeat", () => {
  const out: StorageEvent[] = [];
  const f = new Folder(5000, (e) => out.push(e));
  for (let i = 0; i < 100; i++) f.push(ev(T0 + i * 10_000)); // 100 within 1 s
  f.push(ev(T0 + 500_000, "other message"));
  expect(out).toHaveLength(0); // held until the window closes
  f.expire(T0 + 5_000_000);
  expect(out.map((e) => [e.msg, e.extension["repeat"]])).toEqual([["Buffer I/O error on dev sdb, logical block 0", 100]]);
  f.expire(T0 + 5_500_000);
  expect(out[1]!.msg).toBe("other message");
  expect(out[1]!.extension["repeat"]).toBeUndefined();
  expect(f.folded).toBe(99);
});

test("Folder starts a new window after the old one closed, and passes non-kernel events through", () => {
  const out: StorageEvent[] = [];
  const f = new Folder(1000, (e) => out.push(e));
  f.push(ev(T0));
  f.push(ev(T0 + 2_000_000)); // past the first window: releases the first, holds the second
  expect(out).toHaveLength(1);
  f.push(ev(T0, "udev thing", "udev"));
  expect(out).toHaveLength(2);
  f.expire(Infinity);
  expect(out).toHaveLength(3);
});

test("Folder with a zero window passes everything through at once", () => {
  const out: StorageEvent[] = [];
  const f = new Folder(0, (e) => out.push(e));
  f.push(ev(T0));
  f.push(ev(T0));
  expect(out).toHaveLength(2);
});
