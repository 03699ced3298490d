// Every registered plugin, run (as Vector's assert_source_compliance does for its components): a
// sender counts what it reads and what it rejects and stops when its signal aborts; a parser
// survives hostile records and other subsystems' lines and still parses its own cases the same
// afterwards; a receiver survives a malformed event, counts what it does, and closes promptly.
// The per-plugin documents (sample.toml, README) are checked in test/plugin-docs.test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import plugins from "../plugins/all.ts";
import type { AnyPluginDef, EventDraft, KmsgRecord, Parser, RawRecord, Receiver, Sender, StorageEvent } from "../src/plugin-api.ts";
import { decodeKmsgRecord, KmsgStatus, splitKmsgRecords } from "../src/kmsg/record.ts";
import { decodeUeventFile } from "../src/uevent/parse.ts";
import { makeContext } from "./helpers/context.ts";
import { freePort, makeEvent, waitForPort } from "./helpers/receiver.ts";
import { need } from "./helpers/need.ts";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { waitFor } from "./helpers/wait.ts";
import { startJournalNamespace } from "./helpers/journald.ts";
import { fixtureRecord, readJournalFixture } from "./helpers/journal-fixtures.ts";

const root = join(import.meta.dir, "..");
const tmp = mkdtempSync(join(tmpdir(), "storeventd-compliance-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const of = (kind: string) => plugins.filter((p) => p.kind === kind);
const within = <T>(ms: number, what: string, p: Promise<T>): Promise<T> =>
  Promise.race([p, Bun.sleep(ms).then(() => { throw new Error(`${what} did not finish within ${ms} ms`); })]);

// ---- parsers ----

/** The records of every parser's testdata, by parser (input.kmsg and input.uevent of each case, *.journal files). */
function casesOf(name: string): { name: string; records: RawRecord[] }[] {
  const dir = join(root, "plugins/parser", name, "testdata");
  return readdirSync(dir).sort().map((c) => {
    const records: RawRecord[] = [];
    const kmsg = join(dir, c, "input.kmsg");
    if (existsSync(kmsg)) {
      for (const text of splitKmsgRecords(readFileSync(kmsg, "utf8"))) {
        const d = decodeKmsgRecord(text);
        if (d.status === KmsgStatus.ok) records.push(d.record);
      }
    }
    if (c.endsWith(".journal")) records.push(...readJournalFixture(join(dir, c)).map((l) => fixtureRecord(l)));
    const uevent = join(dir, c, "input.uevent");
    if (existsSync(uevent)) records.push(...decodeUeventFile(readFileSync(uevent), "udev"));
    return { name: c, records };
  });
}

const kmsg = (msg: string, props: Record<string, string> = {}): KmsgRecord =>
  ({ kind: "kmsg", source: "kmsg", priority: 3, facility: 0, seq: 1, ts_us: 1, flags: "-", msg, props, raw: `3,1,1,-;${msg}` });

/** Records no parser can make sense of: empty, huge, binary, truncated prefixes, absurd numbers (on a
 * device no case uses: a plausible line about a case's device may rightly be correlated with it). */
const HOSTILE: RawRecord[] = [
  kmsg(""), kmsg(" "), kmsg("x".repeat(1 << 16)), kmsg("\u0000\u0001\uffff\udc00"), kmsg("sd "), kmsg("sd 9:9:9:9: [sdzz9] tag#"),
  kmsg("ata1.00: "), kmsg("device-mapper: multipath: 253:"), kmsg("EXT4-fs error (device "), kmsg("XFS ("), kmsg("md/raid1:"),
  kmsg("nvme nvme0: "), kmsg(" connection1:0: detected conn error ("), kmsg("blk_update_request: I/O error, dev sdzz9, sector 99999999999999999999999"),
  kmsg("I/O error, dev , sector -1 op 0x1:(WRITE) flags 0x0 phys_seg 1 prio class 0"),
  kmsg("sd 9:9:9:9: [sdzz9] tag#1 CDB: Read(10) 28 00", { SUBSYSTEM: "", DEVICE: "+scsi:" }),
  { kind: "uevent", source: "udev", action: "", devpath: "", props: {}, origin: "kernel", raw: "" },
  { kind: "uevent", source: "udev", action: "change", devpath: "/devices/virtual/block/dm-0", props: { DM_ACTION: "PATH_FAILED", DM_PATH: "" }, origin: "udev", raw: "" },
  { kind: "uevent", source: "udev", action: "change", devpath: "/devices/virtual/block/md0", props: { SUBSYSTEM: "block", DEVNAME: "md0", MD_LEVEL: "\u0000" }, origin: "udev", raw: "" },
  { kind: "events2", source: "drbd", verb: "change", object: "resource", fields: {}, raw: "change resource" },
];

async function parse(def: AnyPluginDef, records: RawRecord[], p?: Parser): Promise<{ parser: Parser; drafts: EventDraft[] }> {
  const parser = p ?? ((await def.create(v.parse(def.schema, {}), makeContext().ctx)) as Parser);
  await parser.start?.();
  const drafts: EventDraft[] = [];
  const emit = (d: EventDraft) => void drafts.push(d);
  for (const r of records) if (parser.accepts.includes(r.kind)) parser.parse(r, emit);
  parser.flush?.(emit, true);
  return { parser, drafts };
}

describe.each(of("parser").map((p) => [p.name, p] as const))("parser %s", (name, def) => {
  const cases = casesOf(name);
  const others = of("parser").filter((p) => p.name !== name).flatMap((p) => casesOf(p.name).flatMap((c) => c.records));

  test("survives every other parser's input; after hostile records parses its own cases as a fresh instance does", async () => {
    // Other subsystems' lines may rightly leave state (a correlating parser merges across sources),
    // so they only must not throw; hostile records must leave none that changes what it emits.
    await parse(def, [...HOSTILE, ...others, ...HOSTILE]);
    let emitted = 0;
    for (const c of cases) {
      const fresh = (await parse(def, c.records)).drafts;
      const after = (await parse(def, c.records, (await parse(def, HOSTILE)).parser)).drafts;
      expect(after.map((d) => JSON.stringify(d)), `${name}/${c.name}`).toEqual(fresh.map((d) => JSON.stringify(d)));
      emitted += fresh.length;
    }
    expect(emitted).toBeGreaterThan(0); // its own cases do produce events
  });
});

// ---- receivers ----

/** Options a receiver needs here: its files in a scratch dir, servers that refuse (port 1 on loopback). */
function receiverOptions(name: string, dir: string): Record<string, unknown> {
  switch (name) {
    case "file": return { path: join(dir, "events.ndjson") };
    case "store": return { path: join(dir, "events.db") };
    case "exec": return { command: ["/bin/true"] };
    case "email": return { server: "127.0.0.1:1", from: "storeventd@localhost", to: ["root@localhost"], batch_wait: "50ms", retries: 0 };
    case "irc": return { server: "127.0.0.1:1", nick: "sevd", channel: "#storage" };
    case "mqtt": return { url: "mqtt://127.0.0.1:1", buffer_max: 1 }; // buffers while refused: drops count
    case "nats": return { servers: ["nats://127.0.0.1:1"], buffer_max: 1 }; // buffers while refused: drops count
    case "multicast": return { group: "239.255.77.77:6699", interface: "lo" };
    case "journald": return { path: join(dir, "no-journald.socket") };
    case "prometheus": return { address: "127.0.0.1:0" };
    case "agentx": return { address: "127.0.0.1:1" }; // no master agent: it retries
    default: return {};
  }
}

/** Receivers that count nothing per event, and why (their counters are checked in their own tests). */
const NO_SEND_COUNTER: Record<string, string> = {
  prometheus: "counts scrapes, not events (it only updates gauges)",
  agentx: "counts the master agent's requests, not events (its own tests run snmpd)",
  promoter: "acts on DRBD model changes, not on events",
  umh: "counts rule matches, and only DRBD changes match rules",
};

/** A malformed event: empty names, a 1 MiB message, control characters, lone surrogates, odd extension values. */
const BAD_EVENT = makeEvent({
  dev_name: "", dev_path: "", dev_wwid: "", owners: [], msg: "\u0000\u001b[31m" + "m".repeat(1 << 20), raw: "\udc00\ud800",
  extension: { nested: { deep: [1, null, "\u0000"] }, nan: Number.NaN, big: Number.MAX_SAFE_INTEGER, "key with spaces=": "v" },
});

describe.each(of("receiver").map((p) => [p.name, p] as const))("receiver %s", (name, def) => {
  test("survives a malformed event, counts what it does, closes promptly after its signal aborts", async () => {
    const dir = mkdtempSync(join(tmp, `${name}-`));
    const { ctx, rec, abort } = makeContext({ instance: `compliance-${name}`, stateDir: dir });
    const r = (await def.create(v.parse(def.schema, receiverOptions(name, dir)), ctx)) as Receiver;
    await r.start?.();
    const events: StorageEvent[] = [
      makeEvent(), makeEvent({ severity: "info", event_type: "DEVICE_ADDED", system: "block" }),
      makeEvent({ system: "drbd", event_type: "DRBD_ROLE_CHANGED", dev_name: "drbd1000", extension: { resource: "r0", old: "Secondary", new: "Primary" } }),
    ];
    await within(10_000, `${name}.send()`, Promise.resolve(r.send(events)));
    await within(10_000, `${name}.send() of a malformed event`, Promise.resolve(r.send([BAD_EVENT])));
    await within(10_000, `${name}.send() after it`, Promise.resolve(r.send([makeEvent()])));
    if (!(name in NO_SEND_COUNTER)) {
      await waitFor(() => [...rec.counts.values()].some((n) => n > 0), 10_000, `${name} counts something`);
    }
    if (r.status) expect(r.status()).toBeObject();
    abort.abort();
    await within(10_000, `${name}.close()`, Promise.resolve(r.close?.()));
  }, 60_000);
});

// ---- senders ----

describe("senders", () => {
  test("every sender is covered here", () => {
    expect(of("sender").map((p) => p.name).sort()).toEqual(["drbd", "journal", "kmsg", "nats", "udev"]);
  });
  const def = (name: string) => of("sender").find((p) => p.name === name)!;

  async function runUntilAbort(name: string, options: Record<string, unknown>, until: (counts: Map<string, number>) => boolean) {
    const dir = mkdtempSync(join(tmp, `${name}-`));
    const { ctx, rec, abort } = makeContext({ instance: `compliance-${name}`, stateDir: dir });
    const s = (await def(name).create(v.parse(def(name).schema, options), ctx)) as Sender;
    await s.start?.();
    const running = s.run();
    await waitFor(() => until(rec.counts), 15_000, `${name} counts`);
    abort.abort();
    await within(5_000, `${name}.run() after abort`, running);
    await within(5_000, `${name}.close()`, Promise.resolve(s.close?.()));
    return rec;
  }

  test("kmsg: counts records and a malformed one on a recorded file; on /dev/kmsg stops when aborted", async () => {
    const file = join(tmp, "bad.kmsg");
    writeFileSync(file, "6,1,10,-;sd 2:0:0:1: [sdb] Attached SCSI disk\n6,2;no header\n6,3,30,-;ok again\n");
    const { ctx, rec } = makeContext({ stateDir: mkdtempSync(join(tmp, "kmsg-file-")) });
    const s = (await def("kmsg").create(v.parse(def("kmsg").schema, { path: file, from: "start" }), ctx)) as Sender;
    await s.start?.();
    await within(5_000, "kmsg.run() on a file", s.run());
    expect(rec.counts.get("bad_records")).toBe(1);
    expect(rec.records.map((r) => (r as KmsgRecord).seq)).toEqual([1, 3]);
    // /dev/kmsg never ends: a line we write is read, then the abort stops the reader.
    let polls = 0;
    const live = await runUntilAbort("kmsg", { path: "/dev/kmsg", from: "end" }, (counts) => {
      if (polls++ % 20 === 0) writeFileSync("/dev/kmsg", `<6>storeventd-compliance-${process.pid}\n`);
      return (counts.get("records") ?? 0) > 0;
    });
    expect(live.counts.get("records")).toBeGreaterThan(0);
  }, 30_000);

  test("udev: counts a real uevent (change on /dev/null's device), stops when aborted", async () => {
    let polls = 0;
    const rec = await runUntilAbort("udev", {}, (counts) => {
      if (polls++ % 20 === 0) writeFileSync("/sys/devices/virtual/mem/null/uevent", "change\n");
      return (counts.get("received") ?? 0) > 0;
    });
    expect(rec.counts.get("received")).toBeGreaterThan(0);
  }, 30_000);

  test("journal: counts a storage daemon's entry in a real journald (its own namespace), stops when aborted", async () => {
    const jd = await startJournalNamespace("sevdcomp");
    try {
      let polls = 0;
      const rec = await runUntilAbort("journal", { namespace: jd.ns, root_only: false, from: "end" }, (counts) => {
        if (polls++ % 20 === 0) Bun.spawnSync(["logger", "-u", `/run/systemd/journal.${jd.ns}/dev-log`, "-t", "multipathd", "--", "sdb: mark as failed"]);
        return (counts.get("entries") ?? 0) > 0;
      });
      expect(rec.counts.get("entries")).toBeGreaterThan(0);
    } finally {
      await jd.stop();
    }
  }, 30_000);

  test("nats: counts another host's event from a real nats-server's JetStream stream and a malformed message, stops when aborted", async () => {
    const nats = Bun.which("nats-server", { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" });
    need({ "nats-server (Debian package nats-server)": nats !== null });
    const port = await freePort();
    const server = Bun.spawn([nats!, "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", mkdtempSync(join(tmp, "nats-js-"))], { stdout: "ignore", stderr: "ignore" });
    try {
      await waitForPort(port, "nats-server");
      const nc = await connect({ servers: `127.0.0.1:${port}` });
      try {
        await (await jetstreamManager(nc)).streams.add({ name: "STOREVENTD", subjects: ["storeventd.>"] });
        const js = jetstream(nc);
        await js.publish("storeventd.other-host.scsi.SCSI_SENSE", JSON.stringify(makeEvent({ hostname: "other-host" })));
        await js.publish("storeventd.other-host.scsi.SCSI_SENSE", "{not an event");
        const rec = await runUntilAbort("nats", { servers: [`127.0.0.1:${port}`] }, (c) => (c.get("events") ?? 0) >= 1 && (c.get("bad_messages") ?? 0) >= 1);
        expect(rec.injected.map((e) => e.hostname)).toEqual(["other-host"]);
      } finally {
        await nc.close();
      }
    } finally {
      server.kill("SIGKILL");
      await server.exited;
    }
  }, 30_000);

  test("drbd: counts events2 lines and a garbage line from drbdsetup, stops (and stops drbdsetup) when aborted", async () => {
    const fake = join(tmp, "drbdsetup");
    const pidFile = join(tmp, "drbdsetup.pid");
    writeFileSync(fake, [
      "#!/bin/sh",
      `echo $$ > ${pidFile}`,
      "echo 'exists resource name:r0 role:Secondary suspended:no write-ordering:flush may_promote:yes promotion_score:10101'",
      "printf 'garbage without a verb\\001\\n'",
      "echo 'exists -'",
      "exec sleep 600",
      "",
    ].join("\n"));
    chmodSync(fake, 0o755);
    const rec = await runUntilAbort("drbd", { path: fake }, (c) => (c.get("lines") ?? 0) >= 2 && (c.get("garbage") ?? 0) >= 1);
    expect(rec.counts.get("garbage")).toBe(1);
    const pid = Number(readFileSync(pidFile, "utf8"));
    await waitFor(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, 5_000, "drbdsetup gone");
  }, 30_000);
});
