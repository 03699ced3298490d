// Memory-leak guard of the live DRBD path: the daemon's pipeline ([drbd] sender on a fake drbdsetup,
// native reader and fast lane, model, [[umh]] subscribed) takes 2M events2 lines over 1000 resources;
// its RSS after all of them must stay within a fixed bound of its RSS after the first 200k. Not a
// timing test: only memory is asserted.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { statisticsRound } from "../helpers/drbd-cluster.ts";
import { cluster, stream } from "../../bench/drbd-stream.ts";

const BOUND_MIB = 24;

test(`2M lines: RSS at the end within ${BOUND_MIB} MiB of RSS after 200k`, async () => {
  const dir = mkdtempSync(join(tmpdir(), "perf15-drbd-leak-"));
  try {
    writeFileSync(join(dir, "stream"), [...stream(1000, 30_000)].join("\n") + "\n");
    const rs = cluster(1000);
    const rounds: string[] = [];
    for (let s = 1; s <= 10; s++) rounds.push(...statisticsRound(rs, s));
    writeFileSync(join(dir, "stats"), rounds.join("\n") + "\n");
    const p = Bun.spawn([process.execPath, join(import.meta.dir, "live-child.ts"), dir, "2000000", "umh"], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const r = JSON.parse(out) as Record<string, number>;
    expect(r.lines).toBeGreaterThanOrEqual(2_000_000);
    const at200k = r.rss_kib_at_200000!;
    expect(at200k).toBeGreaterThan(0);
    expect(r.rss_kib! - at200k).toBeLessThan(BOUND_MIB * 1024);
    expect(r.rss_kib_at_2000000! - at200k).toBeLessThan(BOUND_MIB * 1024);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
