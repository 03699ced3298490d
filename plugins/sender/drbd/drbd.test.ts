// The drbd sender against a fake drbdsetup on PATH (test/drbd/bin/drbdsetup) printing recorded
// `events2 --full` streams: the model it feeds, polling, restarts with resync, garbage, stop.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import plugin from "./index.ts";
import { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import { decodeEvents2Text } from "../../../src/plugin-kit/drbd.ts";
import type { EventDraft, Sender, SenderContext } from "../../../src/plugin-api.ts";
import { makeContext } from "../../../test/helpers/context.ts";
import { initialDump, makeResource, statisticsRound, type SimResource } from "../../../test/helpers/drbd-cluster.ts";

const bin = join(import.meta.dir, "../../../test/drbd/bin");
const streams = join(import.meta.dir, "../../../test/drbd/streams");
const savedPath = process.env.PATH;
let dir = "";

beforeAll(() => {
  process.env.PATH = `${bin}:${savedPath}`;
});
afterAll(() => {
  process.env.PATH = savedPath;
});
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  delete process.env.FAKE_DRBDSETUP_DIR;
});

function fakeDir(): string {
  dir = mkdtempSync(join(tmpdir(), "storeventd-drbd-"));
  process.env.FAKE_DRBDSETUP_DIR = dir;
  return dir;
}

interface Harness {
  sender: Sender;
  ctx: SenderContext;
  model: DrbdModel;
  events: EventDraft[];
  rec: ReturnType<typeof makeContext>["rec"];
  abort: AbortController;
  done: Promise<void>;
}

// The core's part, in small: every record into the one model, its events collected.
async function start(options: Record<string, unknown>, over: Partial<SenderContext> = {}): Promise<Harness> {
  const model = new DrbdModel();
  const events: EventDraft[] = [];
  const { ctx, rec, abort } = makeContext({
    instance: "drbd", plugin: "drbd",
    emit: (r) => {
      rec.records.push(r);
      if (r.kind === "events2") model.apply(r, (d) => events.push(d));
    },
    emitEvent: (d) => void events.push(d),
    ...over,
  });
  const cfg = v.parse(plugin.schema, { "restart-min": "10ms", "restart-max": "40ms", ...options });
  const sender = await plugin.create(cfg, ctx);
  const done = sender.run();
  return { sender, ctx, model, events, rec, abort, done };
}

async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

async function stop(h: Harness): Promise<void> {
  h.abort.abort();
  await h.done;
  await h.sender.close?.();
}

const expected = (name: string) => JSON.parse(readFileSync(join(streams, `${name}.status.json`), "utf8"));
const lineCount = (name: string) => readFileSync(join(streams, `${name}.events2`), "utf8").trim().split("\n").length;

describe.each([["native reader", true], ["TypeScript fallback", false]] as const)("drbd sender (%s)", (_label, native) => {
  test("runs `drbdsetup events2 --full --poll` from PATH and feeds the whole stream to the model", async () => {
    const d = fakeDir();
    copyFileSync(join(streams, "lifecycle.events2"), join(d, "stream"));
    const h = await start({}, native ? {} : { native: null });
    await until("all lines", () => h.rec.records.length === lineCount("lifecycle"));
    expect(readFileSync(join(d, "args"), "utf8").trim()).toBe("events2 --full --poll");
    expect(h.rec.readyCalls).toBe(1);
    expect(h.model.toStatusJson()).toEqual(expected("lifecycle"));
    expect(h.events.map((e) => e.event_type)).toContain("DRBD_SPLIT_BRAIN");
    expect(h.sender.status!()).toMatchObject({ running: true, runs: 1, restarts: 0, reader: native ? "native" : "typescript" });
    const pid = Number(readFileSync(join(d, "pid"), "utf8"));
    await stop(h);
    // The sender owns the child: stopped means gone.
    await until("child gone", () => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z"));
    expect(h.rec.counts.get("restarts") ?? 0).toBe(0);
  });

  test("hostile output: a 10 MB line, NUL bytes and invalid UTF-8 are counted garbage; the rest parses", async () => {
    const d = fakeDir();
    const dump = initialDump([makeResource("r0", 1000, 1, ["p"])]);
    writeFileSync(join(d, "stream"), Buffer.concat([
      Buffer.from(`change resource name:r0 role:${"P".repeat(10 << 20)}\n`),
      Buffer.from("change resource name:r0\0 role:Primary\n"),
      Buffer.from([0x63, 0x68, 0x61, 0x6e, 0x67, 0x65, 0xff, 0xfe, 0x0a]),
      Buffer.from(dump.join("\n") + "\n"),
    ]));
    const h = await start({}, native ? {} : { native: null });
    await until("dump", () => h.model.isInitialized);
    expect(h.rec.counts.get("garbage")).toBe(3);
    expect(h.rec.counts.get("lines")).toBe(dump.length);
    expect((h.model.toStatusJson() as any[])[0].role).toBe("Secondary");
    await stop(h);
  });
});

describe("drbd sender", () => {
  test("writes `n` every statistics-poll-interval and applies the statistics round", async () => {
    const d = fakeDir();
    const rs = [makeResource("r0", 1000, 1, ["p"])];
    writeFileSync(join(d, "stream"), initialDump(rs).join("\n") + "\n");
    writeFileSync(join(d, "stats"), statisticsRound(rs, 5).join("\n") + "\n");
    const h = await start({ "statistics-poll-interval": "50ms" });
    await until("two polls", () => existsSync(join(d, "polls")) && readFileSync(join(d, "polls"), "utf8").split("\n").length > 2);
    await until("stats applied", () => (h.model.toStatusJson() as any[])[0]?.devices[0].written === 40);
    expect(h.events).toEqual([]);
    await stop(h);
  });

  test("a missing drbdsetup is retried with backoff; the sender still becomes ready", async () => {
    const h = await start({ path: "drbdsetup-that-does-not-exist" });
    await until("3 restarts", () => (h.rec.counts.get("restarts") ?? 0) >= 3);
    expect(h.rec.readyCalls).toBe(1);
    expect(h.rec.logs.some((l) => l.includes("not found: drbdsetup-that-does-not-exist is not in PATH"))).toBe(true);
    await stop(h);
  });

  test("drbdsetup dying mid-stream is restarted; the new dump resyncs the model", async () => {
    const d = fakeDir();
    const rs = [makeResource("a", 1000, 1, ["p"]), makeResource("b", 1010, 1, ["p"])];
    writeFileSync(join(d, "stream.1"), initialDump(rs).join("\n") + "\n");
    writeFileSync(join(d, "die-after.1"), String(initialDump(rs).length)); // dump done, then exit 1
    writeFileSync(join(d, "stderr"), "State change failed: (-17) Refusing to be Primary while peer is not outdated\n");
    rs[0]!.role = "Primary";
    writeFileSync(join(d, "stream"), initialDump(rs).join("\n") + "\n");
    const h = await start({});
    await until("restart event", () => h.events.some((e) => e.event_type === "DRBD_EVENTS_RESTARTED"));
    expect(h.events.map((e) => e.event_type)).toEqual(["DRBD_ROLE_CHANGED", "DRBD_EVENTS_RESTARTED"]);
    expect(h.rec.logs.some((l) => l.includes("exited with status 1: State change failed"))).toBe(true);
    expect(h.rec.readyCalls).toBe(1);
    expect(h.rec.records.filter((r) => r.kind === "events2" && r.verb === "restart")).toHaveLength(1);
    await stop(h);
  });

  test("a drbdsetup printing only garbage is killed and restarted", async () => {
    const d = fakeDir();
    // What a drbdsetup without a DRBD kernel, or of the wrong version, prints (real messages).
    const junk = readFileSync(join(import.meta.dir, "testdata/garbage.txt"), "utf8");
    writeFileSync(join(d, "stream.1"), junk.repeat(5));
    writeFileSync(join(d, "stream"), initialDump([makeResource("r0", 1000, 1, [])]).join("\n") + "\n");
    const h = await start({ "garbage-limit": 20 });
    await until("second run dumped", () => h.model.isInitialized);
    expect(h.rec.counts.get("garbage")).toBeGreaterThanOrEqual(20);
    expect(h.rec.logs.filter((l) => l.includes("not events2"))).toHaveLength(1);
    expect(h.rec.logs.some((l) => l.includes("printed 20 garbage lines in a row"))).toBe(true);
    expect((h.model.toStatusJson() as any[]).map((r) => r.name)).toEqual(["r0"]);
    await stop(h);
  });

  test("killed 20 times while the cluster changes: the final model equals a fresh one", async () => {
    const d = fakeDir();
    // Run k prints the state after k-1 changes: one role flip, connection loss or new resource each.
    const states: SimResource[][] = [];
    const rs = [makeResource("a", 1000, 1, ["p1", "p2"]), makeResource("b", 1010, 2, ["p1"])];
    for (let k = 1; k <= 21; k++) {
      if (k % 3 === 0) rs[0]!.role = rs[0]!.role === "Primary" ? "Secondary" : "Primary";
      if (k % 3 === 1) rs[1]!.connections[0]!.connection = rs[1]!.connections[0]!.connection === "Connected" ? "Connecting" : "Connected";
      if (k % 3 === 2) rs.push(makeResource(`n${k}`, 1100 + k * 10, 1, ["p1"]));
      if (k % 7 === 0) rs.splice(2, 1);
      states.push(structuredClone(rs));
      writeFileSync(join(d, `stream.${k}`), initialDump(rs).join("\n") + "\n");
    }
    const h = await start({});
    for (let k = 1; k <= 20; k++) {
      await until(`run ${k} dumped`, () => h.model.status().resyncs === k - 1 && h.model.isInitialized && !h.model.status().resyncing
        && Number(readFileSync(join(d, "runs"), "utf8")) === k);
      process.kill(Number(readFileSync(join(d, "pid"), "utf8")), "SIGKILL");
      await until(`run ${k + 1} started`, () => Number(readFileSync(join(d, "runs"), "utf8")) === k + 1);
    }
    await until("20 resyncs", () => h.model.status().resyncs === 20);
    const fresh = new DrbdModel();
    for (const rec of decodeEvents2Text(initialDump(states[20]!).join("\n"))) fresh.apply(rec, () => {});
    expect(h.model.toStatusJson()).toEqual(fresh.toStatusJson());
    expect(h.events.filter((e) => e.event_type === "DRBD_EVENTS_RESTARTED")).toHaveLength(20);
    // Only real changes: runs 2..21 flip a role 7 times, a connection 6 times, add 7 resources, drop 3.
    const real = h.events.filter((e) => e.event_type !== "DRBD_EVENTS_RESTARTED").map((e) => e.event_type);
    expect(real.filter((t) => t === "DRBD_RESOURCE_DESTROYED")).toHaveLength(3);
    expect(real.filter((t) => t === "DRBD_RESOURCE_CREATED")).toHaveLength(7);
    expect(real.filter((t) => t === "DRBD_ROLE_CHANGED")).toHaveLength(7);
    expect(real.filter((t) => t === "DRBD_CONNECTION_STATE_CHANGED")).toHaveLength(6);
    expect(real).toHaveLength(7 + 6 + 7 + 3);
    expect(h.rec.counts.get("restarts")).toBe(20);
    await stop(h);
  }, 60_000);
});
