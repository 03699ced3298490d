// exec receiver: a real /bin/sh recorder script dumps argv, env and stdin; shell metacharacters in
// event data must arrive as plain bytes; timeouts kill; parallelism is bounded; exits counted.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { checkSampleAndReadme, makeEvent, receiverContext, schemaErrors } from "../../../test/helpers/receiver.ts";
import plugin, { ExecReceiver } from "./index.ts";
import { ENV_VALUE_MAX, eventEnv } from "./env.ts";

const dir = import.meta.dir;
const recorder = join(dir, "testdata/recorder.sh");
let rec: string;

beforeEach(() => {
  rec = mkdtempSync(join(tmpdir(), "sevd-exec-"));
});
afterEach(() => {
  rmSync(rec, { recursive: true, force: true });
});

interface Run {
  argv: string[];
  env: Record<string, string>;
  stdin: string;
}

function runs(): Run[] {
  return readdirSync(rec)
    .filter((n) => n.startsWith("run."))
    .map((n) => {
      const d = join(rec, n);
      const env: Record<string, string> = {};
      for (const kv of readFileSync(join(d, "env"), "utf8").split("\0").filter(Boolean)) {
        const i = kv.indexOf("=");
        env[kv.slice(0, i)] = kv.slice(i + 1);
      }
      return { argv: readFileSync(join(d, "argv"), "utf8").split("\0").slice(0, -1), env, stdin: readFileSync(join(d, "stdin"), "utf8") };
    });
}

async function make(opts: Record<string, unknown>) {
  const { ctx, rec: r } = receiverContext();
  const cfg = v.parse(plugin.schema, { ...opts, env: { REC_DIR: rec, ...(opts.env as object) } });
  const recv = (await plugin.create(cfg, ctx)) as ExecReceiver;
  return { recv, counts: r.counts, logs: r.logs };
}

const HOSTILE = [
  "$(touch MARK)", "`touch MARK`", "; touch MARK", "' ; touch MARK ; '", '" ; touch MARK ; "', "| touch MARK", "&& touch MARK",
  "${IFS}touch${IFS}MARK", "\n touch MARK", "*", "$HOME", "\\",
];

describe("exec receiver", () => {
  test("per event: every STOREVENTD_* variable and the JSON on stdin; argv passed as is", async () => {
    const { recv, counts } = await make({ command: [recorder, "--from", "$(touch MARK)", "a b"] });
    const e = makeEvent({ extension: { sense_key: "Medium Error", "asc/ascq": [17, 0], n: 3 } });
    await recv.send([e]);
    const [r] = runs();
    expect(r!.argv).toEqual(["--from", "$(touch MARK)", "a b"]);
    expect(JSON.parse(r!.stdin)).toEqual(e);
    const want = eventEnv(e);
    for (const [k, val] of Object.entries(want)) expect([k, r!.env[k]]).toEqual([k, val]);
    expect(r!.env.STOREVENTD_EXT_SENSE_KEY).toBe("Medium Error");
    expect(r!.env.STOREVENTD_EXT_ASC_ASCQ).toBe("[17,0]");
    expect(r!.env.STOREVENTD_OWNERS).toBe("dm-3");
    expect(r!.env.REC_DIR).toBe(rec);
    expect(r!.env.HOME).toBeUndefined(); // only PATH, env and STOREVENTD_*
    expect(counts.get("sent")).toBe(1);
    expect(counts.get("runs")).toBe(1);
  });

  test("shell metacharacters in event data are never interpreted", async () => {
    const { recv } = await make({ command: ["sh", "-c", `exec "${recorder}" "$@"`, "sh"] });
    const events = HOSTILE.map((h) => makeEvent({ msg: h, dev_name: h, raw: h, extension: { [h]: h, k: h } }));
    await recv.send(events);
    const got = runs();
    expect(got.length).toBe(HOSTILE.length);
    const msgs = got.map((r) => r.env.STOREVENTD_MSG).sort();
    expect(msgs).toEqual([...HOSTILE].sort());
    for (const r of got) {
      expect(r.env.STOREVENTD_DEV_NAME).toBe(r.env.STOREVENTD_MSG!);
      expect(r.env.STOREVENTD_EXT_K).toBe(r.env.STOREVENTD_MSG!);
      expect(JSON.parse(r.stdin).raw).toBe(r.env.STOREVENTD_MSG!);
    }
    expect(existsSync(join("/", "MARK"))).toBe(false);
    expect(readdirSync(rec).filter((n) => n.includes("MARK"))).toEqual([]);
  });

  test("batch = true: one run, NDJSON on stdin, summary variables", async () => {
    const { recv, counts } = await make({ command: [recorder], batch: true });
    const events = [makeEvent({ severity: "warn" }), makeEvent({ event_type: "SCSI_SENSE", system: "scsi", dev_name: "sdb" }), makeEvent({ severity: "info" })];
    await recv.send(events);
    const [r, ...more] = runs();
    expect(more).toEqual([]);
    expect(r!.stdin.split("\n").filter(Boolean).map((l) => JSON.parse(l))).toEqual(events);
    expect(r!.env.STOREVENTD_COUNT).toBe("3");
    expect(r!.env.STOREVENTD_SEVERITY).toBe("error");
    expect(r!.env.STOREVENTD_EVENT_TYPES).toBe("DM_MPATH_PATH_DOWN SCSI_SENSE");
    expect(r!.env.STOREVENTD_DEV_NAMES).toBe("sdc sdb");
    expect(counts.get("sent")).toBe(3);
  });

  test("NUL bytes and huge values are made environment-safe; stdin keeps them whole", async () => {
    const { recv } = await make({ command: [recorder] });
    const e = makeEvent({ msg: "a\0b", raw: "é".repeat(40_000) });
    await recv.send([e]);
    const [r] = runs();
    expect(r!.env.STOREVENTD_MSG).toBe("a\uFFFDb");
    expect(Buffer.byteLength(r!.env.STOREVENTD_RAW!)).toBeLessThanOrEqual(ENV_VALUE_MAX);
    expect(r!.env.STOREVENTD_RAW!.length).toBe(ENV_VALUE_MAX / 2);
    expect(JSON.parse(r!.stdin)).toEqual(e);
  });

  test("non-zero exits are counted as failed and their events as errors", async () => {
    const { recv, counts, logs } = await make({ command: [recorder], env: { REC_EXIT: "3" } });
    await recv.send([makeEvent(), makeEvent()]);
    expect(counts.get("failed")).toBe(2);
    expect(counts.get("exit_3")).toBe(2);
    expect(counts.get("errors")).toBe(2);
    expect(counts.get("sent")).toBeUndefined();
    expect(logs.join("\n")).toContain("exited 3");
    expect((recv.status().last_failure as { code: number }).code).toBe(3);
  });

  test("parallel bounds the runs at the same time", async () => {
    const { recv } = await make({ command: [recorder], parallel: 2, env: { REC_SLEEP: "0.3" } });
    await recv.send(Array.from({ length: 6 }, () => makeEvent()));
    const seen = readFileSync(join(rec, "concurrency"), "utf8").trim().split("\n").map(Number);
    expect(seen.length).toBe(6);
    expect(Math.max(...seen)).toBe(2);
  });

  test("timeout: SIGTERM, then SIGKILL for a command that ignores it; send() returns", async () => {
    const { recv, counts } = await make({ command: [join(dir, "testdata/stubborn.sh")], timeout: "300ms", kill_after: "200ms" });
    const t0 = performance.now();
    await recv.send([makeEvent()]);
    const ms = performance.now() - t0;
    expect(existsSync(join(rec, "stubborn.started"))).toBe(true);
    expect(counts.get("timeouts")).toBe(1);
    expect(counts.get("signal_SIGKILL")).toBe(1);
    expect(counts.get("errors")).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(3000);
    expect(recv.status().last_failure).toMatchObject({ timedOut: true, signal: "SIGKILL" });
  });

  test("sample.toml validates and equals the README's Configuration block", () => {
    checkSampleAndReadme(plugin, dir);
  });

  test("config errors: empty or missing command, bad env names, unknown program", async () => {
    expect(schemaErrors(plugin, {})[0]).toContain("command");
    expect(schemaErrors(plugin, { command: [] })[0]).toContain("at least the program");
    expect(schemaErrors(plugin, { command: "/bin/true" })[0]).toContain("command");
    expect(schemaErrors(plugin, { command: ["/bin/true"], env: { "BAD-NAME": "x" } })[0]).toContain("bad environment variable name");
    expect(schemaErrors(plugin, { command: ["/bin/true"], parallel: 0 })[0]).toContain("parallel");
    const { ctx } = receiverContext();
    const create = (o: Record<string, unknown>) => Promise.resolve().then(() => plugin.create(v.parse(plugin.schema, o), ctx));
    await expect(create({ command: ["no-such-program-sevd"] })).rejects.toThrow("not found in PATH");
    writeFileSync(join(rec, "plain"), "#!/bin/sh\n", { mode: 0o644 });
    await expect(create({ command: [join(rec, "plain")] })).rejects.toThrow("not an executable");
    await expect(create({ command: ["/tmp"] })).rejects.toThrow("not an executable");
    expect(await create({ command: ["true"] })).toBeInstanceOf(ExecReceiver);
  });
});
