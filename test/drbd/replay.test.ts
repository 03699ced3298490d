// `storeventd replay --events2` on the compiled binary: the recorded streams' events as NDJSON, and
// --model prints the final model as `drbdsetup status --json` would.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runBin } from "../helpers/bin.ts";

const streams = join(import.meta.dir, "streams");

describe("storeventd replay --events2", () => {
  for (const name of ["lifecycle", "dump"]) {
    test(`--model on ${name}.events2 prints the expected status --json document`, async () => {
      const r = await runBin(["replay", "--events2", join(streams, `${name}.events2`), "--model"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(join(streams, `${name}.status.json`), "utf8")));
    });
  }

  test("--json prints the DRBD events with their raw line; stdin works", async () => {
    const text = readFileSync(join(streams, "lifecycle.events2"), "utf8");
    const r = await runBin(["replay", "--events2", "-", "--json"], { stdin: text });
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(events).toHaveLength(39); // model.test.ts lists them: 37 plus the two peers reconnecting as Secondary
    const sb = events.find((e) => e.event_type === "DRBD_SPLIT_BRAIN");
    expect(sb).toMatchObject({
      system: "drbd", severity: "error", dev_name: "drbd1020", dev_path: "/dev/drbd1020", source: "drbd",
      raw: "call helper name:web peer-node-id:2 conn-name:bob volume:0 minor:1020 helper:split-brain",
    });
  });
});
