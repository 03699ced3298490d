// The web console in headless Chromium (DevTools protocol), on the compiled daemon:
// - load: 1000 events in the store (written by `storeventd replay --receivers`), the events page
//   loaded 5 times; per load: navigation start -> the first screen of history rows painted (rAF
//   after the insert), the DOM part (building and inserting those rows), their style and layout,
//   the DOM part of the older rows added after that paint, and fetch + all rows. p50 over the 5
//   loads, goal < 100 ms; the baseline is a one-line page's first paint in the same browser.
// - fleet: a host daemon reading the real /dev/kmsg publishes to a local nats-server, a fleet node
//   (nats sender, store, web console) feeds a page filtered to that host. Kernel record written ->
//   WebSocket message in the page -> row in the DOM -> painted, p50/p99 over PROBES records.
// Latencies and load times, so absolute figures with the load average next to them.
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, runBin, startDaemon } from "../test/helpers/bin.ts";
import { openBrowser } from "../test/helpers/browser.ts";
import { freePort, waitForPort } from "../test/helpers/receiver.ts";

const LOADS = 5;
const STORED = 1000;
const PROBES = 200;
const DEV = "sdfb"; // a device no other test writes about

const ioError = (sector: number) => `blk_update_request: I/O error, dev ${DEV}, sector ${sector} op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0`;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const r1 = (x: number) => Number(x.toFixed(1));
const listening = (s: string) => /listening on (http:\/\/\S+)/.exec(s)?.[1];

async function consoleLoad(dir: string, out: Record<string, number | string>): Promise<void> {
  const cfg = join(dir, "load.toml");
  writeFileSync(cfg, `[main]
hostname = "load-node"
state_dir = "${dir}/load-state"
control_socket = "${dir}/load.sock"
listen = "127.0.0.1:0"
dedup_window = "0s"
[store]
type = "receiver"
`);
  const records = Array.from({ length: STORED }, (_, i) => `[ ${(100 + i / 100).toFixed(6)}] ${ioError(200_000 + i)}`).join("\n") + "\n";
  writeFileSync(join(dir, "load.kmsg"), records);
  const r = await runBin(["replay", "--kmsg", join(dir, "load.kmsg"), "--receivers", "-c", cfg, "-q"]);
  if (r.code !== 0) throw new Error(`replay: ${r.stderr}`);
  const d = await startDaemon(["run", "-c", cfg], (s) => !!listening(s) && s.includes("started"));
  const b = await openBrowser("about:blank");
  try {
    const url = listening(d.stderr())!;
    const stored = (await (await fetch(`${url}v1/events?limit=100000`)).json()) as unknown[];
    if (stored.length < STORED) throw new Error(`only ${stored.length} events stored`);
    if (process.env.CONSOLE_BENCH_DEBUG) {
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const body = await (await fetch(`${url}v1/events?order=desc&limit=500`)).text();
        console.log(`GET /v1/events?order=desc&limit=500: ${(performance.now() - t0).toFixed(1)} ms, ${body.length} bytes`);
      }
    }
    const painted: number[] = [];
    const dom: number[] = [];
    const layout: number[] = [];
    const rest: number[] = [];
    const fetchDom: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      await b.send("Page.navigate", { url: `${url}?load=${i}#/events` });
      await b.waitFor(`document.body && document.body.dataset.paintedMs && document.body.dataset.renderMs && document.URL.includes("load=${i}")`);
      const m = await b.evaluate<{ painted: string; dom: string; layout: string; render: string; restMs: string; rows: number }>(
        `({ ...document.body.dataset, painted: document.body.dataset.paintedMs, dom: document.body.dataset.domMs, layout: document.body.dataset.layoutMs, render: document.body.dataset.renderMs, rows: document.querySelectorAll("#rows tr").length })`);
      if (m.rows < 500) throw new Error(`load ${i}: ${m.rows} rows`);
      if (process.env.CONSOLE_BENCH_DEBUG) console.log(await b.evaluate<string>(`JSON.stringify(document.body.dataset)`));
      if (process.env.CONSOLE_BENCH_DEBUG) console.log(await b.evaluate<string>(`JSON.stringify([performance.getEntriesByType("navigation")[0], ...performance.getEntriesByType("resource"), ...performance.getEntriesByType("paint")].map((e) => [e.name.replace(/^.*\\//, ""), Math.round(e.startTime), Math.round(e.responseEnd || 0), Math.round(e.domContentLoadedEventStart || 0), Math.round(e.duration)]))`));
      painted.push(Number(m.painted));
      dom.push(Number(m.dom));
      layout.push(Number(m.layout));
      rest.push(Number(m.restMs));
      fetchDom.push(Number(m.render));
      out.console_rows_shown = m.rows;
    }
    // Baseline in the same run: the browser's own floor, a one-line page to its first paint.
    const floor: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      await b.send("Page.navigate", { url: `data:text/html,<!doctype html><title>${i}</title><p>baseline`});
      await b.waitFor(`document.title === "${i}" && performance.getEntriesByType("paint").length > 0`);
      floor.push(await b.evaluate<number>(`performance.getEntriesByType("paint")[0].startTime`));
    }
    out.console_stored_events = stored.length;
    out.console_load_to_rows_painted_p50_ms = r1(pct(painted, 0.5));
    out.console_load_to_rows_painted_all_ms = painted.map(r1).join(" ");
    out.console_history_fetch_and_dom_p50_ms = r1(pct(fetchDom, 0.5));
    out.console_first_rows_dom_only_p50_ms = r1(pct(dom, 0.5));
    out.console_first_rows_style_layout_p50_ms = r1(pct(layout, 0.5));
    out.console_remaining_rows_dom_p50_ms = r1(pct(rest, 0.5));
    out.baseline_blank_page_first_paint_p50_ms = r1(pct(floor, 0.5));
    out.console_load_vs_blank_page = r1(pct(painted, 0.5) / pct(floor, 0.5));
    out.console_load_goal = "console_load_to_rows_painted_p50_ms < 100";
    out.console_load_average_1m = r1(loadavg()[0]!);
  } finally {
    await b.close();
    d.proc.kill("SIGTERM");
    await d.proc.exited;
  }
}

/** In the page before its scripts: when each probe's WebSocket message, row and paint happened. */
const PROBE_HOOK = `(() => {
  const at = () => performance.timeOrigin + performance.now();
  const probes = (window.__probes = {});
  const sector = (s) => { const m = /sector (\\d+)/.exec(s); return m ? m[1] : null; };
  const NativeWS = window.WebSocket;
  window.WebSocket = function (...a) {
    const ws = new NativeWS(...a);
    ws.addEventListener("message", (m) => { const s = sector(String(m.data)); if (s) (probes[s] ??= {}).ws = at(); });
    return ws;
  };
  window.WebSocket.prototype = NativeWS.prototype;
  new MutationObserver((muts) => {
    const t = at();
    const seen = [];
    for (const mu of muts) for (const n of mu.addedNodes) {
      const s = n.nodeType === 1 ? sector(n.textContent) : null;
      if (s && !(probes[s] ??= {}).dom) { probes[s].dom = t; seen.push(s); }
    }
    if (seen.length) requestAnimationFrame(() => setTimeout(() => { const p = at(); for (const s of seen) probes[s].painted = p; }));
  }).observe(document, { childList: true, subtree: true });
})()`;

async function fleetLatency(dir: string, out: Record<string, number | string>): Promise<void> {
  const natsServer = Bun.which("nats-server") ?? Bun.which("nats-server", { PATH: "/usr/sbin:/usr/bin" });
  if (!natsServer) throw new Error("nats-server not found");
  const port = await freePort();
  const nats = `nats://127.0.0.1:${port}`;
  const srv = Bun.spawn([natsServer, "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", join(dir, "js")], { stdout: "ignore", stderr: "ignore" });
  const daemons: Awaited<ReturnType<typeof startDaemon>>[] = [];
  let b: Awaited<ReturnType<typeof openBrowser>> | undefined;
  try {
    await waitForPort(port, "nats-server");
    writeFileSync(join(dir, "fleet.toml"), `[main]
hostname = "bench-fleet"
state_dir = "${dir}/fleet-state"
control_socket = "${dir}/fleet.sock"
listen = "127.0.0.1:0"
[fleet]
type = "sender"
plugin = "nats"
servers = ["${nats}"]
[store]
type = "receiver"
`);
    const fleet = await startDaemon(["run", "-c", join(dir, "fleet.toml")], (s) => !!listening(s) && s.includes("started"));
    daemons.push(fleet);
    writeFileSync(join(dir, "host.toml"), `[main]
hostname = "bench-host"
state_dir = "${dir}/host-state"
control_socket = "${dir}/host.sock"
dedup_window = "0s"
[kmsg]
type = "sender"
from = "end"
accept_user_records = true
[bus]
type = "receiver"
plugin = "nats"
servers = ["${nats}"]
jetstream = true
create_stream = false
`);
    daemons.push(await startDaemon(["run", "-c", join(dir, "host.toml")], (s) => s.includes("started")));
    b = await openBrowser("about:blank");
    await b.send("Page.addScriptToEvaluateOnNewDocument", { source: PROBE_HOOK });
    await b.send("Page.navigate", { url: `${listening(fleet.stderr())}#/events?host=bench-host&dev=${DEV}` });
    await b.waitFor(`document.getElementById("conn") && document.getElementById("conn").textContent === "live"`);
    const sent = new Map<number, number>();
    for (let i = 0; i < PROBES; i++) {
      const sector = 900_000 + i;
      const fd = openSync("/dev/kmsg", "w"); // one record per open: printk_devkmsg's ratelimit counts per fd
      try {
        sent.set(sector, performance.timeOrigin + performance.now());
        writeSync(fd, `${ioError(sector)}\n`);
      } finally {
        closeSync(fd);
      }
      await Bun.sleep(20);
    }
    await b.waitFor(`Object.values(window.__probes).filter((p) => p.painted).length >= ${PROBES}`, 20_000);
    const got = await b.evaluate<Record<string, { ws?: number; dom?: number; painted?: number }>>("window.__probes");
    const lat = (k: "ws" | "dom" | "painted") => [...sent].map(([s, t0]) => got[String(s)]![k]! - t0);
    for (const k of ["ws", "dom", "painted"] as const) {
      out[`fleet_kmsg_to_page_${k}_p50_ms`] = r1(pct(lat(k), 0.5));
      out[`fleet_kmsg_to_page_${k}_p99_ms`] = r1(pct(lat(k), 0.99));
    }
    out.fleet_probes = PROBES;
    out.fleet_load_average_1m = r1(loadavg()[0]!);
  } finally {
    await b?.close();
    for (const d of daemons.reverse()) {
      d.proc.kill("SIGTERM");
      await d.proc.exited;
    }
    srv.kill("SIGKILL");
    await srv.exited;
  }
}

export default async function (): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), "console-bench-"));
  mkdirSync(dir, { recursive: true });
  const out: Record<string, number | string> = { binary: BIN };
  try {
    await consoleLoad(dir, out);
    await fleetLatency(dir, out);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
