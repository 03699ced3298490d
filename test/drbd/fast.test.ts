// The model's fast lane (native/src/events2_fast.cc + src/drbd/fast.ts) against the full way
// (DrbdModel.apply on every decoded record): the same stream, fed both ways, must give the same
// events, the same drbd-reactor updates, the same final state and the same record count - the
// fast lane may only skip lines that change nothing an event or update depends on.
import { need } from "../helpers/need.ts";
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeEvents2Batch, Events2Lane } from "../../src/drbd/events2.ts";
import { applyFastLine } from "../../src/drbd/fast.ts";
import { type DrbdUpdate, DrbdModel } from "../../src/drbd/model.ts";
import type { EventDraft } from "../../src/event.ts";
import { nativeAddon } from "../../src/native.ts";
import { stream } from "../../bench/drbd-stream.ts";

const addon = nativeAddon();

// Statistics lines that do change something (each must take the full way), and lines the lane
// must refuse: unknown keys, odd values, objects the model has not seen, a restart mid-stream.
const TRICKY = [
  "change device name:res1 volume:0 minor:1004 disk:Inconsistent client:no open:no quorum:yes size:1048576 read:1 written:2 al-writes:3 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no blocked:no",
  "change device name:res1 volume:0 minor:1004 disk:Inconsistent client:no open:yes quorum:yes size:1048576 read:1 written:2",
  "change device name:res1 volume:0 disk:Inconsistent quorum:no size:1048576",
  "change device name:res1 volume:0 disk:Inconsistent quorum:yes size:2097152 read:7",
  "change device name:res1 volume:0 disk:Frobnicated read:8",
  "change device name:res1 volume:0 disk:UpToDate read:9 new-key:42",
  "change device name:res1 volume:0 read:1e3",
  "change device name:res1 volume:0 read:-5 written:0.5 blocked:upper",
  "change device name:res1 volume:7 read:1",
  "change device name:nosuch volume:0 read:1",
  "change device name:res1 volume:x read:1",
  "change peer-device name:res1 peer-node-id:1 conn-name:alpha volume:0 replication:SyncSource peer-disk:Inconsistent peer-client:no resync-suspended:no received:0 sent:1 out-of-sync:4096 pending:0 unacked:0 done:10.5 eta:33 dbdt1:1",
  "change peer-device name:res1 peer-node-id:1 conn-name:alpha volume:0 replication:SyncSource peer-disk:Inconsistent received:0 sent:2 out-of-sync:2048 done:50.25",
  "change peer-device name:res1 peer-node-id:1 conn-name:alpha volume:0 replication:SyncSource peer-disk:Inconsistent received:0 sent:3 out-of-sync:2048",
  "change peer-device name:res1 peer-node-id:1 conn-name:alpha volume:0 replication:SyncSource done:75 sent:4",
  "change peer-device name:res1 peer-node-id:1 conn-name:alpha volume:0 replication:SyncSource resync-suspended:user sent:5",
  "change peer-device name:res1 peer-node-id:1 conn-name:alpha volume:0 replication:SyncSource resync-suspended:peer sent:6",
  "change peer-device name:res1 peer-node-id:1 conn-name:alpha volume:0 replication:Established peer-disk:UpToDate resync-suspended:no received:0 sent:7 out-of-sync:0",
  "change peer-device name:res1 peer-node-id:1 conn-name:alpha volume:0 peer-client:yes sent:8",
  "change peer-device name:res1 peer-node-id:9 conn-name:zeta volume:0 sent:8",
  "change peer-device name:res1 peer-node-id:1 conn-name:alpha volume:0 replication:Weird sent:9",
  "change peer-device name:res1 peer-node-id:1 conn-name:alpha volume:0 sent:10 done:abc",
  "exists resource name:res1 role:Secondary suspended:no force-io-failures:no write-ordering:flush may_promote:yes promotion_score:10101",
  "change device name:res1 volume:0 read:11",
  "exists -",
  "change device name:res1 volume:0 read:12",
];

function lines(): string[] {
  const out = [...stream(50, 6000)];
  // After the dump, before and between statistics rounds.
  const dumpEnd = out.indexOf("exists -") + 1;
  out.splice(dumpEnd + 1000, 0, ...TRICKY);
  return out;
}

interface Run {
  events: EventDraft[];
  updates: DrbdUpdate[];
  model: DrbdModel;
  taken: number;
}

function run(text: string, fast: boolean, chunk: number): Run {
  const model = new DrbdModel();
  const events: EventDraft[] = [];
  const updates: DrbdUpdate[] = [];
  model.subscribe((u) => void updates.push(structuredClone(u)));
  const lane = new Events2Lane();
  const apply = (n: Float64Array, b: number, s: readonly string[]) => applyFastLine(model, n, b, s);
  let taken = 0;
  const all = text.split("\n");
  // Several events2Tokenize calls: every call is a fresh tokenizer (ids start over, announced again).
  for (let i = 0; i < all.length; i += chunk) {
    const [bytes, ends, nums] = addon!.events2Tokenize!(Buffer.from(all.slice(i, i + chunk).join("\n") + "\n"));
    taken += decodeEvents2Batch(bytes, ends, nums, "drbd", (r) => model.apply(r, (d) => events.push(d)), () => {},
      fast ? lane : undefined, fast ? apply : null);
  }
  return { events, updates, model, taken };
}

describe("DRBD fast lane vs the full way", () => {
  beforeAll(() => need({ "the native addon (npm install builds it)": Boolean(addon?.events2Tokenize) }));
  const text = lines().join("\n");

  for (const chunk of [100_000, 777]) {
    test(`same events, updates, state and counts (${chunk === 777 ? "many tokenizer calls" : "one call"})`, () => {
      const full = run(text, false, chunk);
      const fast = run(text, true, chunk);
      expect(full.taken).toBe(0);
      // The lane carries the statistics rounds: most lines of this stream.
      expect(fast.taken).toBeGreaterThan(3000);
      expect(fast.events).toEqual(full.events);
      expect(fast.updates).toEqual(full.updates);
      expect(fast.model.toStatusJson()).toEqual(full.model.toStatusJson());
      expect(fast.model.status()).toEqual(full.model.status());
      // The tricky lines did reach the model (a disk change, a resync and its end, a restart).
      const types = new Set(full.events.map((e) => e.event_type));
      for (const t of ["DRBD_DISK_STATE_CHANGED", "DRBD_QUORUM_LOST", "DRBD_RESYNC_STARTED", "DRBD_RESYNC_DONE", "DRBD_EVENTS_RESTARTED"]) {
        expect(types).toContain(t);
      }
    });
  }

  test("the lane refuses lines it cannot prove harmless (kind 0 from the tokenizer)", () => {
    const [, , nums] = addon!.events2Tokenize!(Buffer.from(TRICKY.slice(4, 11).join("\n") + "\n"));
    // disk:Frobnicated, new-key:42, read:1e3 are not fast; read:-5/written:0.5/blocked:upper, volume:7,
    // name:nosuch are (the model refuses the last two); volume:x is not.
    const kinds = Array.from({ length: 7 }, (_, i) => nums[i * 21 + 2]! & 15);
    expect(kinds).toEqual([0, 0, 0, 1, 1, 1, 0]);
  });
});
