import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { formatEventLine } from "../../../src/plugin-kit/format.ts";
import type { StorageEvent } from "../../../src/plugin-kit/event.ts";

const fixture = join(import.meta.dir, "testdata/two-events.ndjson");
const events: StorageEvent[] = readFileSync(fixture, "utf8").trim().split("\n").map((l) => JSON.parse(l));

// Runs the plugin in a child so its real stdout (a pipe) is what we read.
async function runStdout(format: "line" | "json"): Promise<string> {
  const script = `
    import plugin from ${JSON.stringify(join(import.meta.dir, "index.ts"))};
    import { makeContext } from ${JSON.stringify(join(import.meta.dir, "../../../test/helpers/context.ts"))};
    const events = (await Bun.file(${JSON.stringify(fixture)}).text()).trim().split("\\n").map((l) => JSON.parse(l));
    const r = await plugin.create({ format: ${JSON.stringify(format)}, color: true }, makeContext().ctx);
    await r.start?.();
    await r.send(events);`;
  const p = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  expect(await p.exited).toBe(0);
  return out;
}

test("stdout receiver prints NDJSON that parses back to the events", async () => {
  const out = await runStdout("json");
  expect(out.trim().split("\n").map((l) => JSON.parse(l))).toEqual(events);
});

test("stdout receiver prints one readable line per event, no colour on a pipe", async () => {
  const out = await runStdout("line");
  expect(out).toBe(
    "2026-11-26T00:30:36.123456Z node-a error fs/FS_ERROR loop0: ext4 error on loop0\n" +
      "2026-11-26T00:30:37.000001Z node-a warn  multipath/DM_MPATH_PATH_DOWN sdb: path sdb of dm-3 failed (x3)\n",
  );
  expect(formatEventLine(events[0]!, true)).toContain("\x1b[31merror");
});
