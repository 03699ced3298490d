// umh: drbd-reactor [[umh]] rules on the model's updates from a recorded events2 stream; the exact
// environment each command gets (a recorder script writes it down), `sh -c` as drbd-reactor runs it
// (event data only in the environment), timeout kill, bounded parallelism, and config errors.
import { DRBD_MODEL_SERVICE } from "../../../src/plugin-kit/drbd.ts";
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import * as v from "valibot";
import plugin from "./index.ts";
import { decodeEvents2Text } from "../../../src/plugin-kit/drbd.ts";
import { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import { makeContext } from "../../../test/helpers/context.ts";

const recorder = join(import.meta.dir, "testdata/record-env.sh");
const lifecycle = readFileSync(join(import.meta.dir, "../../../test/drbd/streams/lifecycle.events2"), "utf8");
let out = "";
afterEach(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

async function setup(toml: string) {
  out = mkdtempSync(join(tmpdir(), "storeventd-umh-"));
  const model = new DrbdModel();
  const { ctx, rec } = makeContext({ instance: "umh[0]", plugin: "umh" });
  ctx.services.provide(DRBD_MODEL_SERVICE, model);
  const raw = (parseToml(toml.replaceAll("@OUT@", out).replaceAll("@REC@", recorder)) as { umh: unknown[] }).umh[0];
  const umh = await plugin.create(v.parse(plugin.schema, raw), ctx);
  await umh.start?.();
  const feed = (text: string) => {
    for (const r of decodeEvents2Text(text)) model.apply(r, () => {});
  };
  return { model, umh, rec, feed };
}

/** The recorded runs: argv line plus the environment, without what sh adds itself (PWD). */
function runs(): string[][] {
  return readdirSync(out).filter((f) => f.startsWith("run.")).map((f) =>
    readFileSync(join(out, f), "utf8").trim().split("\n").filter((l) => !l.startsWith("PWD=")));
}

async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

describe("umh receiver", () => {
  test("drbd-reactor rules fire on the lifecycle stream with exactly the environment drbd-reactor's code sets", async () => {
    const { umh, rec, feed } = await setup(`
[[umh]]
[[umh.resource]]
name = "promoted"
command = "@REC@ resource"
resource-name = "r0"
old.role = { operator = "NotEquals", value = "Primary" }
new.role = "Primary"
env = { OUT = "@OUT@" }

[[umh.device]]
command = "@REC@ 'quorum lost'"
event-type = "Change"
old.quorum = true
new.quorum = false
volume = 1
env = { OUT = "@OUT@" }

[[umh.peerdevice]]
command = "@REC@ peer"
new.replication-state = "SyncSource"
old.replication-state = { operator = "NotEquals", value = "SyncSource" }
env = { OUT = "@OUT@" }

[[umh.connection]]
command = "@REC@ conn"
resource-name = "web"
peer-node-id = 2
new.connection-state = "StandAlone"
env = { OUT = "@OUT@", PATH = "/overridden/by/common/env" }
`);
    feed(lifecycle);
    await until("4 runs", () => rec.counts.get("exit_ok") === 4);
    const byArgv = Object.fromEntries(runs().map((r) => [r[0]!, r.slice(1)]));
    expect(byArgv["argv: resource"]).toEqual([
      "DRBD_NEW_MAY_PROMOTE=false", "DRBD_NEW_ROLE=Primary", "DRBD_OLD_MAY_PROMOTE=true", "DRBD_OLD_ROLE=Secondary",
      "DRBD_RES_NAME=r0", "HOME=/", `OUT=${out}`, "PATH=/sbin:/usr/sbin:/bin:/usr/bin", "TERM=Linux",
    ]);
    expect(byArgv["argv: quorum lost"]).toEqual([
      "DRBD_BACKING_DEV=/dev/vg0/r1_1", "DRBD_BACKING_DEV_1=/dev/vg0/r1_1", "DRBD_MINOR=1011", "DRBD_MINOR_1=1011",
      "DRBD_NEW_CLIENT=false", "DRBD_NEW_DISK_STATE=UpToDate", "DRBD_NEW_QUORUM=false",
      "DRBD_OLD_CLIENT=false", "DRBD_OLD_DISK_STATE=UpToDate", "DRBD_OLD_QUORUM=true",
      "DRBD_RES_NAME=r1", "DRBD_VOLUME=1", "HOME=/", `OUT=${out}`, "PATH=/sbin:/usr/sbin:/bin:/usr/bin", "TERM=Linux",
    ]);
    expect(byArgv["argv: peer"]).toEqual([
      "DRBD_BACKING_DEV=/dev/vg0/r0_0", "DRBD_BACKING_DEV_0=/dev/vg0/r0_0", "DRBD_MINOR=1000", "DRBD_MINOR_0=1000",
      "DRBD_NEW_PEER_CLIENT=false", "DRBD_NEW_PEER_DISK_STATE=Inconsistent", "DRBD_NEW_PEER_REPLICATION_STATE=SyncSource",
      "DRBD_NEW_PEER_RESYNC_SUSPENDED=false", "DRBD_OLD_PEER_CLIENT=false", "DRBD_OLD_PEER_DISK_STATE=DUnknown",
      "DRBD_OLD_PEER_REPLICATION_STATE=Off", "DRBD_OLD_PEER_RESYNC_SUSPENDED=false", "DRBD_PEER_NODE_ID=1",
      "DRBD_RES_NAME=r0", "HOME=/", `OUT=${out}`, "PATH=/sbin:/usr/sbin:/bin:/usr/bin", "TERM=Linux",
    ]);
    expect(byArgv["argv: conn"]).toEqual([
      "DRBD_CSTATE=StandAlone", "DRBD_NEW_CONN_NAME=bob", "DRBD_NEW_CONN_STATE=StandAlone",
      "DRBD_NEW_PEER_ROLE=Unknown", "DRBD_OLD_CONN_NAME=bob", "DRBD_OLD_CONN_STATE=Disconnecting",
      "DRBD_OLD_PEER_ROLE=Unknown", "DRBD_PEER_NODE_ID=2", "DRBD_RES_NAME=web", "HOME=/", `OUT=${out}`,
      "PATH=/sbin:/usr/sbin:/bin:/usr/bin", "TERM=Linux",
    ]);
    expect(rec.counts.get("matched")).toBe(4);
    expect(rec.logs.some((l) => /rule "promoted": command exited 0 in \d+ ms/.test(l))).toBe(true);
    await umh.close?.();
  });

  test("commands run as sh -c with shell syntax; event data reaches them only as variables", async () => {
    // A connection name with shell syntax in it: expanded as a variable it stays inert text.
    const evil = "exists connection name:r9 peer-node-id:1 conn-name:$(touch${IFS}@OUT@/pwned);x connection:Connected role:Secondary congested:no\n" +
      "exists -\n" +
      "change connection name:r9 peer-node-id:1 connection:Connecting\n";
    const { umh, rec, feed } = await setup(`
[[umh]]
[[umh.connection]]
command = 'logger -t storeventd-umh-test lost $DRBD_NEW_CONN_NAME on $DRBD_RES_NAME; @REC@ "$DRBD_NEW_CONN_NAME" $DRBD_RES_NAME | cat >/dev/null; read x && echo "stdin:$x" >> $OUT/stdin'
event-type = "Change"
env = { OUT = "@OUT@" }
`);
    feed(evil.replaceAll("@OUT@", out));
    await until("one run", () => rec.counts.get("exit_ok") === 1 || rec.counts.get("exit_failed") === 1);
    const r = runs();
    expect(r.length).toBe(1);
    expect(r[0]![0]).toBe(`argv: $(touch\${IFS}${out}/pwned);x r9`);
    expect(readdirSync(out)).not.toContain("pwned");
    // stdin is /dev/null: `read` hits end of file at once (status 1), so nothing is appended.
    expect(readdirSync(out)).not.toContain("stdin");
    await umh.close?.();
  });

  test("a connection rule matches a peer's role change (change connection ... role:Primary)", async () => {
    const { umh, rec, feed } = await setup(`
[[umh]]
[[umh.connection]]
command = '@REC@ "peer $DRBD_PEER_NODE_ID $DRBD_OLD_PEER_ROLE to $DRBD_NEW_PEER_ROLE"'
old.peer-role = "Secondary"
new.peer-role = "Primary"
env = { OUT = "@OUT@" }
`);
    feed(lifecycle.split("exists -\n")[0] + "exists -\n" +
      "change connection name:r0 peer-node-id:2 conn-name:bob connection:Connected role:Primary congested:no ap-in-flight:0 rs-in-flight:0\n");
    await until("one run", () => rec.counts.get("exit_ok") === 1);
    expect(runs().map((r) => r[0])).toEqual(["argv: peer 2 Secondary to Primary"]);
    expect(rec.counts.get("matched")).toBe(1);
    await umh.close?.();
  });

  test("a hung command is killed after timeout; failures are counted", async () => {
    const { umh, rec, feed } = await setup(`
[[umh]]
timeout = "200ms"
[[umh.resource]]
name = "hangs"
command = "@REC@ slow"
resource-name = "r0"
new.role = "Primary"
env = { OUT = "@OUT@", SLEEP = "30" }
[[umh.resource]]
name = "fails"
command = "@REC@ fails"
resource-name = "r0"
new.role = "Primary"
env = { OUT = "@OUT@", EXIT = "3" }
`);
    const t0 = Date.now();
    feed(lifecycle);
    await until("timeout and failure", () => rec.counts.get("timeouts") === 1 && rec.counts.get("exit_failed") === 1);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(rec.logs.some((l) => l.includes('rule "hangs": command killed after 200 ms timeout'))).toBe(true);
    expect(rec.logs.some((l) => /rule "fails": command failed \(status 3\)/.test(l))).toBe(true);
    await umh.close?.();
  });

  test("at most max-parallel commands run at once; the rest wait", async () => {
    const { umh, rec, feed } = await setup(`
[[umh]]
max-parallel = 2
[[umh.connection]]
command = "@REC@ conn"
event-type = "Change"
old.connection-state = "Connected"
env = { OUT = "@OUT@", SLEEP = "0.2" }
`);
    feed(lifecycle); // 3 connections leave Connected (and r1's is destroyed: not a Change)
    let peak = 0;
    const t0 = Date.now();
    while ((rec.counts.get("exit_ok") ?? 0) < 3 && Date.now() - t0 < 8000) {
      peak = Math.max(peak, (umh.status!() as { running: number }).running);
      await Bun.sleep(10);
    }
    expect(rec.counts.get("exit_ok")).toBe(3);
    expect(peak).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    await umh.close?.();
  });

  test("config: a typical drbd-reactor shell command is accepted; bad states and keys are not", () => {
    const ok = v.safeParse(plugin.schema, { connection: [{ command: "logger lost $DRBD_NEW_CONN_NAME on $DRBD_RES_NAME" }] });
    expect(ok.success).toBe(true);
    expect(v.safeParse(plugin.schema, { resource: [{ command: "" }] }).success).toBe(false);
    expect(v.safeParse(plugin.schema, { device: [{ command: "true", old: { "disk-state": "Broken" } }] }).success).toBe(false);
    expect(v.safeParse(plugin.schema, { connection: [{ command: "true", "peer-id": 1 }] }).success).toBe(false);
  });
});
