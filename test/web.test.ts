// The optional TCP listener on the compiled binary: a real browser shows live events, a real
// Prometheus scrapes /metrics, promtool accepts the exposition.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { startDaemon } from "./helpers/bin.ts";
import { CHROMIUM, openBrowser } from "./helpers/browser.ts";

const dir = mkdtempSync(join(tmpdir(), "storeventd-web-"));
const cfg = join(dir, "storeventd.toml");
const base = `[main]\nhostname = "web-node"\nstate_dir = "${dir}/state"\nlisten = "127.0.0.1:0"\n[sink]\ntype = "receiver"\nplugin = "file"\npath = "${dir}/events.ndjson"\n`;
let d: Awaited<ReturnType<typeof startDaemon>>;
let url = "";

beforeAll(async () => {
  writeFileSync(cfg, base);
  d = await startDaemon(["run", "-c", cfg], (s) => /listening on (http:\/\/\S+)/.test(s));
  url = /listening on (http:\/\/\S+)/.exec(d.stderr())![1]!;
}, 60_000);
afterAll(async () => {
  d?.proc.kill("SIGTERM");
  await d?.proc.exited;
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

test("web page shows live events over the WebSocket in a real browser", async () => {
  expect(CHROMIUM).toBeDefined();
  const b = await openBrowser(url);
  try {
    await b.waitFor(`document.getElementById("conn").textContent === "live"`);
    expect(await b.evaluate<string>(`document.getElementById("host").textContent`)).toStartWith("web-node");
    writeFileSync(cfg, base + `[sink2]\ntype = "receiver"\nplugin = "file"\npath = "${dir}/events2.ndjson"\n`);
    d.proc.kill("SIGHUP");
    await b.waitFor(`document.querySelector('#events tr[data-type="DAEMON_RELOADED"]')`);
    const row = await b.evaluate<string[]>(`[...document.querySelector('#events tr[data-type="DAEMON_RELOADED"]').children].map((td) => td.textContent)`);
    expect(row[1]).toBe("info");
    expect(row[2]).toBe("daemon/DAEMON_RELOADED");
    expect(row[4]).toMatch(/^config reloaded: 1 started, 0 stopped, \d+ kept$/); // kept: sink + the implicit parsers
    await b.screenshot(join(tmpdir(), "storeventd-web.png"));
  } finally {
    await b.close();
  }
}, 60_000);

test("/metrics passes promtool and a real Prometheus scrapes it", async () => {
  const text = await (await fetch(`${url}metrics`)).text();
  expect(text).toMatch(/^storeventd_events_total\{system="daemon",event_type="DAEMON_STARTED",severity="info"\} 1$/m);
  const check = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: new Blob([text]) });
  expect(check.stderr.toString() + check.stdout.toString()).toBe("");
  expect(check.exitCode).toBe(0);

  const target = url.replace(/^http:\/\//, "").replace(/\/$/, "");
  const promDir = join(dir, "prom");
  writeFileSync(join(dir, "prometheus.yml"), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: storeventd\n    static_configs:\n      - targets: ["${target}"]\n`);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const prom = Bun.spawn(["prometheus", `--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${promDir}`,
    `--web.listen-address=127.0.0.1:${port}`], { stdout: "ignore", stderr: "ignore" });
  try {
    let value: string | undefined;
    for (let i = 0; i < 150 && value === undefined; i++) {
      await Bun.sleep(200);
      try {
        const r = await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=storeventd_events_total{event_type="DAEMON_STARTED"}`)).json() as { data?: { result?: { value: [number, string] }[] } };
        value = r.data?.result?.[0]?.value[1];
      } catch {}
    }
    expect(value).toBe("1");
  } finally {
    prom.kill("SIGTERM");
    await prom.exited;
  }
}, 60_000);
