import { expect, test } from "bun:test";
import { Folder } from "./fold.ts";
import { formatTime, type StorageEvent } from "../event.ts";

const TEXT = "Buffer I/O error on dev sdb1, logical block 0, async page read";
const ev = (seq: number, text = TEXT, type = "BLK_IO_ERROR"): StorageEvent => ({
  event_id: crypto.randomUUID(), time: formatTime(Date.UTC(2026, 10, 26) * 1000 + seq), hostname: "h", severity: "error",
  system: "block", event_type: type, dev_name: "sdb1", dev_path: "", dev_wwid: "", owners: [],
  msg: "buffer I/O error at logical block 0", source: "kmsg", raw: `3,${seq},${seq * 10},-;${text}`, extension: {},
});

test("Folder: the first occurrence goes out at once; repeats are counted into one follow-up when the window closes", () => {
  const out: StorageEvent[] = [];
  const f = new Folder(5000, (e) => out.push(e));
  const first = ev(1);
  f.push(first, 0);
  expect(out).toEqual([first]); // not held
  for (let i = 2; i <= 100; i++) f.push(ev(i), i * 10); // 99 repeats within 1 s, other seq and timestamp
  expect(out).toHaveLength(1);
  expect(f.folded).toBe(99);
  f.expire(4999);
  expect(out).toHaveLength(1);
  f.expire(5000);
  expect(out).toHaveLength(2);
  expect(out[1]!.extension).toEqual({ repeat: 99, first_event_id: first.event_id });
  expect(out[1]!.event_id).not.toBe(first.event_id);
  expect(out[1]!.raw).toBe(`3,100,1000,-;${TEXT}`); // the last repeat's record
  f.push(ev(101), 6000); // a new window: out at once again
  expect(out).toHaveLength(3);
  expect(out[2]!.extension).toEqual({});
});

test("Folder: a window without repeats sends no follow-up", () => {
  const out: StorageEvent[] = [];
  const f = new Folder(1000, (e) => out.push(e));
  f.push(ev(1), 0);
  f.expire(Infinity);
  expect(out).toHaveLength(1);
  expect(f.pending).toBe(0);
});

test("Folder: two different kernel texts never fold, even with the same summary; nor two event types of one record", () => {
  const out: StorageEvent[] = [];
  const f = new Folder(5000, (e) => out.push(e));
  f.push(ev(1), 0);
  f.push(ev(2, "Buffer I/O error on dev sdb1, logical block 0, lost async page write"), 1);
  f.push(ev(3, TEXT, "FS_IO_ERROR"), 2);
  expect(out.map((e) => e.raw)).toEqual([
    `3,1,10,-;${TEXT}`, "3,2,20,-;Buffer I/O error on dev sdb1, logical block 0, lost async page write", `3,3,30,-;${TEXT}`,
  ]);
  expect(f.folded).toBe(0);
});

test("Folder: the header of every record form is left out of the comparison (kmsg, dmesg, journal lines in replay)", () => {
  const out: StorageEvent[] = [];
  const f = new Folder(5000, (e) => out.push(e));
  const at = (raw: string): StorageEvent => ({ ...ev(1), raw });
  f.push(at(`3,1,10,-;${TEXT}\n SUBSYSTEM=block`), 0);
  f.push(at(`3,9,90,c;${TEXT}\n SUBSYSTEM=block`), 1);
  f.push(at(`[   12.345678] ${TEXT}`), 2);
  f.push(at(`<3>[   13.000001] ${TEXT}`), 3);
  f.push(at(`Nov 26 00:30:36 node-a kernel: ${TEXT}`), 4);
  f.push(at(`Nov 26 00:30:37 node-a kernel: [ 14.5] ${TEXT}`), 5);
  expect(out.map((e) => e.raw)).toEqual([`3,1,10,-;${TEXT}\n SUBSYSTEM=block`, `[   12.345678] ${TEXT}`]);
  expect(f.folded).toBe(4);
});

test("Folder: a storm of distinct messages keeps at most 10000 windows open; the oldest closes early", () => {
  const out: StorageEvent[] = [];
  const f = new Folder(5000, (e) => out.push(e));
  f.push(ev(1, "message 0"), 0);
  f.push(ev(2, "message 0"), 0); // a repeat: its follow-up goes out when the window closes early
  for (let i = 1; i <= 10_000; i++) f.push(ev(i + 2, `message ${i}`), 1);
  expect(f.pending).toBe(10_000);
  expect(out).toHaveLength(10_002);
  expect(out.filter((e) => e.extension.repeat !== undefined).map((e) => e.extension)).toEqual([{ repeat: 1, first_event_id: out[0]!.event_id }]);
});

test("Folder: events not from a kernel-log sender, and a zero window, pass through", () => {
  const out: StorageEvent[] = [];
  const f = new Folder(5000, (e) => out.push(e));
  f.push(ev(1), 0, false);
  f.push(ev(1), 0, false);
  expect(out).toHaveLength(2);
  const z = new Folder(0, (e) => out.push(e));
  z.push(ev(1), 0);
  z.push(ev(1), 0);
  expect(out).toHaveLength(4);
});

test("Folder: windows close one after another as the clock passes each (the first open window gates the scan)", () => {
  const out: StorageEvent[] = [];
  const f = new Folder(1000, (e) => out.push(e));
  const a = ev(1, "text a");
  const b = ev(2, "text b");
  f.push(a, 0);
  f.push(b, 500);
  f.push(ev(3, "text a"), 600);
  f.push(ev(4, "text b"), 700);
  f.expire(999);
  expect(out).toEqual([a, b]);
  f.expire(1000); // a's window only
  expect(out.map((e) => e.extension)).toEqual([{}, {}, { repeat: 1, first_event_id: a.event_id }]);
  expect(f.pending).toBe(1);
  const c = ev(5, "text c");
  f.push(c, 1200); // b's window is still the first open one
  f.push(ev(6, "text c"), 1300);
  f.expire(1499);
  expect(out).toHaveLength(4);
  f.expire(1500);
  expect(out[4]!.extension).toEqual({ repeat: 1, first_event_id: b.event_id });
  f.expire(2200);
  expect(out[5]!.extension).toEqual({ repeat: 1, first_event_id: c.event_id });
  expect(f.pending).toBe(0);
  const d = ev(7, "text d"); // all closed: a new first window
  f.push(d, 2300);
  f.push(ev(8, "text d"), 2400);
  f.expire(3299);
  expect(out).toHaveLength(7);
  f.expire(3300);
  expect(out[7]!.extension).toEqual({ repeat: 1, first_event_id: d.event_id });
});

test("Folder.offer: an event is built at once when it goes out; a repeat's is built only as the follow-up, from the last repeat", () => {
  const out: StorageEvent[] = [];
  const f = new Folder(5000, (e) => out.push(e), true); // replay: the clock is the records' time
  f.sources.add("kmsg");
  const built: number[] = [];
  const offer = (seq: number, source = "kmsg") => {
    const e = { ...ev(seq), source };
    f.offer(source, e.system, e.event_type, e.raw, seq * 1000, () => (built.push(seq), e));
  };
  offer(1);
  expect(built).toEqual([1]); // the first goes out at once
  for (let i = 2; i <= 50; i++) offer(i);
  expect(built).toEqual([1]); // repeats are only counted
  offer(51, "udev"); // a source that does not fold: built and out at once
  expect(built).toEqual([1, 51]);
  expect(f.folded).toBe(49);
  f.expire(Infinity);
  expect(built).toEqual([1, 51, 50]); // the follow-up is the last repeat's event
  expect(out.map((e) => e.raw)).toEqual([ev(1).raw, ev(51).raw, ev(50).raw]);
  expect(out[2]!.extension).toEqual({ repeat: 49, first_event_id: out[0]!.event_id });
});
