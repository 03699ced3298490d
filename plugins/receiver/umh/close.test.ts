// umh at stop: close() ends running commands (SIGTERM, then SIGKILL of their process group when
// they ignore it) within a bound, and runs nothing for updates after it.
import { DRBD_MODEL_SERVICE } from "../../../src/plugin-kit/drbd.ts";
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import plugin from "./index.ts";
import { decodeEvents2Text } from "../../../src/plugin-kit/drbd.ts";
import { DrbdModel } from "../../../src/plugin-kit/drbd.ts";
import { makeContext } from "../../../test/helpers/context.ts";
import { waitFor } from "../../../test/helpers/wait.ts";

const dir = mkdtempSync(join(tmpdir(), "core-life-umh-close-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const dump = readFileSync(join(import.meta.dir, "../../../test/drbd/streams/dump.events2"), "utf8");

/** Running, not gone or a zombie: the command runs under `sh -c`, so once killed it is an orphan
 * until PID 1 reaps it (which this machine's PID 1 may not do). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

test("close() kills a command that ignores SIGTERM within a second and runs nothing afterwards", async () => {
  const pids = join(dir, "pids");
  const stuck = join(dir, "stuck.sh");
  writeFileSync(stuck, `#!/bin/sh\ntrap '' TERM\necho $$ >> ${pids}\nwhile :; do sleep 1; done\n`, { mode: 0o755 });
  const model = new DrbdModel();
  const { ctx, rec } = makeContext({ instance: "umh[0]", plugin: "umh" });
  ctx.services.provide(DRBD_MODEL_SERVICE, model);
  const umh = await plugin.create(v.parse(plugin.schema, {
    timeout: "1h", resource: [{ name: "res0 exists", command: stuck, "resource-name": "res0", "event-type": "Exists" }],
  }), ctx);
  await umh.start?.();
  for (const r of decodeEvents2Text(dump)) model.apply(r, () => {});
  const end = Date.now() + 5000;
  while (!existsSync(pids) && Date.now() < end) await Bun.sleep(10);
  await Bun.sleep(50);
  const pid = Number(readFileSync(pids, "utf8").trim());
  expect(alive(pid)).toBe(true);
  const t0 = performance.now();
  await umh.close?.();
  // close() returns once the command's pipes are closed, which the kernel does early in the killed
  // process's exit, a moment before it turns into a zombie: poll briefly (a CI run saw it still running).
  await waitFor(() => !alive(pid), 500, "the killed command to exit", 5);
  expect(performance.now() - t0).toBeLessThan(1500);
  // A later update (the dump again, after a restart) runs nothing.
  for (const r of decodeEvents2Text(`-\n${dump}`)) model.apply(r, () => {});
  await Bun.sleep(200);
  expect(readFileSync(pids, "utf8").trim().split("\n")).toHaveLength(1);
  expect(rec.counts.get("started")).toBe(1);
});
