// AckFloor: the cumulative ack never passes a sequence not handled here; holes are skipped only
// when the caller says so; the carrying message always has a newer delivery sequence (the server
// ignores an AckAll whose delivery sequence is not above the last one's).
import { describe, expect, test } from "bun:test";
import { AckFloor, ackSequences, type Delivery } from "./ack-floor.ts";

const d = (seq: number, dseq = seq): Delivery => ({ seq, dseq });

describe("AckFloor", () => {
  test("handled() acks the highest contiguous sequence, carried by that message", () => {
    const f = new AckFloor<Delivery>();
    expect(f.handled([d(1), d(2), d(3)])).toEqual(d(3));
    expect(f.floor).toBe(3);
    expect(f.gap).toBeUndefined();
    expect(f.handled([])).toBeUndefined();
  });

  test("handled() stops below a lost delivery and waits for its redelivery", () => {
    const f = new AckFloor<Delivery>();
    expect(f.handled([d(1), d(2), d(5, 3), d(6, 4)])).toEqual(d(2)); // 3 and 4 were lost in transit
    expect([f.floor, f.gap, f.waiting]).toEqual([2, 3, 2]);
    // 7 came with a newer delivery sequence than the last carrier: it may carry, but only up to the floor.
    expect(f.handled([d(7, 5)])).toBeUndefined();
    // The redeliveries (new delivery sequences) fill the gap: one ack, carried by 7, covers 3..7.
    expect(f.handled([d(3, 6), d(4, 7)])).toEqual(d(7, 5));
    expect([f.floor, f.gap, f.waiting]).toEqual([7, undefined, 0]);
  });

  test("handled(): the carrier is the highest covered message whose delivery sequence is above the last carrier's", () => {
    const f = new AckFloor<Delivery>();
    expect(f.handled([d(1)])).toEqual(d(1));
    expect(f.handled([d(2, 9)])).toEqual(d(2, 9)); // a redelivery
    expect(f.handled([d(4, 4)])).toBeUndefined(); // 3 not seen yet
    // 3 comes (dseq 10): the floor reaches 4, but 4's dseq 4 is not above 9 (the server would ignore
    // it), so 3 carries the ack; 4 stays pending on the server and its redelivery is acked again.
    expect(f.handled([d(3, 10)])).toEqual(d(3, 10));
    expect(f.floor).toBe(4);
    expect(f.handled([d(4, 11)])).toEqual(d(4, 11));
    expect(f.handled([d(4, 11)])).toBeUndefined(); // not above the last carrier: nothing to send
  });

  test("a redelivery at or under the floor is acked again (an ack lost in a failover)", () => {
    const f = new AckFloor<Delivery>();
    f.handled([d(1), d(2)]);
    expect(f.handled([d(1, 3)])).toEqual(d(1, 3));
    expect(f.floor).toBe(2);
  });

  test("skip() passes a hole only up to the given next sequence", () => {
    const f = new AckFloor<Delivery>();
    f.handled([d(1), d(4, 2), d(5, 3), d(8, 4)]);
    expect(f.gap).toBe(2);
    expect(f.skip(4)).toEqual(d(5, 3)); // 2 and 3 hold nothing for this consumer
    expect([f.floor, f.gap, f.maxWaiting]).toEqual([5, 6, 8]);
    expect(f.skip(3)).toBeUndefined(); // never backwards
    expect(f.skip(9)).toEqual(d(8, 4)); // 6 and 7 hold nothing; 8 was handled and is acked
    expect([f.floor, f.gap]).toEqual([8, undefined]);
  });

  test("start() takes the server's ack floor and never moves back", () => {
    const f = new AckFloor<Delivery>();
    expect(f.start(100)).toBeUndefined();
    expect(f.floor).toBe(100);
    f.handled([d(101, 1)]);
    f.start(50);
    expect(f.floor).toBe(101);
    expect(f.handled([d(102, 2)])).toEqual(d(102, 2));
  });
});

describe("ackSequences", () => {
  test("reads the stream and delivery sequence of both ack subject forms", () => {
    expect(ackSequences("$JS.ACK.STOREVENTD.storeventd-fleet.1.4711.42.1765090000000000000.17")).toEqual({ seq: 4711, dseq: 42 });
    expect(ackSequences("$JS.ACK._.ACCHASH.STOREVENTD.fleet.2.9.10.1765090000000000000.0")).toEqual({ seq: 9, dseq: 10 });
    expect(ackSequences("$JS.ACK.hub.ACCHASH.STOREVENTD.fleet.1.123456789.5.1765090000000000000.3.x7Yz")).toEqual({ seq: 123456789, dseq: 5 });
  });

  test("anything else is not read (the caller falls back to the library)", () => {
    for (const s of ["", "_INBOX.abc", "$JS.ACK.S.C.1.2.3", "$JS.ACK.S.C.1.x.3.4.5", "$JS.ACK.S.C.1.0.3.4.5"]) expect(ackSequences(s)).toBeUndefined();
  });
});
