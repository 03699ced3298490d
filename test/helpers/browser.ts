// Headless Chromium driven over the DevTools protocol (no extra npm dependency): open a page,
// evaluate expressions, take screenshots.
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";

export const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);

export async function openBrowser(url: string, extraArgs: string[] = []) {
  if (!CHROMIUM) throw new Error("chromium is not installed (apt-get install chromium)");
  const profile = mkdtempSync(join(tmpdir(), "storeventd-chromium-"));
  const proc = Bun.spawn([
    CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0", `--user-data-dir=${profile}`, "--window-size=1280,800", ...extraArgs, "about:blank",
  ], { stdout: "ignore", stderr: "ignore" });
  const portFile = join(profile, "DevToolsActivePort");
  for (let i = 0; i < 200 && !existsSync(portFile); i++) await Bun.sleep(50);
  const port = readFileSync(portFile, "utf8").split("\n")[0];
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { type: string; webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(targets.find((t) => t.type === "page")!.webSocketDebuggerUrl);
  await new Promise((r, j) => ((ws.onopen = r), (ws.onerror = j)));
  let id = 0;
  const pending = new Map<number, (v: { result?: unknown; error?: unknown }) => void>();
  ws.onmessage = (m) => {
    const msg = JSON.parse(String(m.data));
    if (msg.id && pending.has(msg.id)) pending.get(msg.id)!(msg);
  };
  const send = (method: string, params: object = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const n = ++id;
      pending.set(n, (msg) => (msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result as Record<string, unknown>)));
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  await send("Page.enable");
  await send("Page.navigate", { url });
  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = (await send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true })) as { result: { value: T } };
    return r.result.value;
  };
  return {
    /** A raw DevTools protocol call (e.g. Page.addScriptToEvaluateOnNewDocument before a navigate). */
    send,
    evaluate,
    async waitFor(expression: string, timeoutMs = 10_000): Promise<void> {
      const until = performance.now() + timeoutMs; // monotonic: immune to wall-clock steps
      while (!(await evaluate<boolean>(`Boolean(${expression})`))) {
        if (performance.now() > until) throw new Error(`timed out waiting for ${expression}`);
        await Bun.sleep(50);
      }
    },
    async screenshot(path: string): Promise<void> {
      const r = (await send("Page.captureScreenshot", { format: "png" })) as { data: string };
      await Bun.write(path, Buffer.from(r.data, "base64"));
    },
    async close(): Promise<void> {
      ws.close();
      proc.kill("SIGKILL");
      await proc.exited;
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
