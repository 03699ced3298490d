// The TCP listener beyond loopback: the compiled daemon runs in a network namespace the test makes
// (a veth pair: 10.231.7.1 inside, 10.231.7.2 here), bound to 10.231.7.1 with TLS and an access token.
// Requests without the token are refused, the token works as a Bearer header and through the login
// form (an HttpOnly, Secure, SameSite=Strict session cookie), a WebSocket from a foreign Origin is
// refused, only GET/HEAD are answered; a real Chromium logs in and gets the live console.
// `check` refuses such a listener without TLS or a token.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { BIN, runBin } from "./helpers/bin.ts";
import { CHROMIUM, openBrowser } from "./helpers/browser.ts";

const dir = mkdtempSync(join(tmpdir(), "storeventd-websec-"));
const ns = `sevdweb${process.pid % 100000}`;
const inside = "10.231.7.1";
const outside = "10.231.7.2";
const port = 9443;
const origin = `https://${inside}:${port}`;
const token = "t0k3n-" + crypto.randomUUID();
let daemon: ReturnType<typeof Bun.spawn> | undefined;
let ca = "";

function sh(cmd: string[]): void {
  const r = Bun.spawnSync(cmd, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
}

/** fetch to the listener in the namespace, trusting its self-signed certificate. */
function get(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${origin}${path}`, { redirect: "manual", ...init, tls: { ca } } as RequestInit);
}

/** A WebSocket handshake by hand (status line only): what a browser's upgrade request looks like. */
async function upgrade(headers: Record<string, string>): Promise<number> {
  const r = await get("/v1/events", {
    headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", ...headers },
  });
  return r.status;
}

beforeAll(async () => {
  sh(["ip", "netns", "add", ns]);
  sh(["ip", "link", "add", `${ns}a`, "type", "veth", "peer", "name", `${ns}b`]);
  sh(["ip", "link", "set", `${ns}b`, "netns", ns]);
  sh(["ip", "addr", "add", `${outside}/30`, "dev", `${ns}a`]);
  sh(["ip", "link", "set", `${ns}a`, "up"]);
  sh(["ip", "netns", "exec", ns, "ip", "addr", "add", `${inside}/30`, "dev", `${ns}b`]);
  sh(["ip", "netns", "exec", ns, "ip", "link", "set", `${ns}b`, "up"]);
  sh(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
    "-subj", `/CN=${inside}`, "-addext", `subjectAltName=IP:${inside}`]);
  ca = readFileSync(cert, "utf8");
  writeFileSync(join(dir, "token"), `${token}\n`);
  writeFileSync(join(dir, "storeventd.toml"), `[main]
hostname = "sec-node"
state_dir = "${dir}/state"
control_socket = "${dir}/control.sock"
listen = "${inside}:${port}"
tls_cert = "${cert}"
tls_key = "${key}"
token_file = "${dir}/token"
[store]
type = "receiver"
`);
  daemon = Bun.spawn(["ip", "netns", "exec", ns, BIN, "run", "-c", join(dir, "storeventd.toml")], { stdout: "ignore", stderr: "pipe" });
  const end = performance.now() + 15_000;
  for (;;) {
    try {
      if ((await get("/login")).status === 200) break;
    } catch { /* not up yet */ }
    if (performance.now() > end) throw new Error("the daemon in the namespace does not answer");
    await Bun.sleep(100);
  }
}, 60_000);

afterAll(async () => {
  daemon?.kill("SIGTERM");
  await daemon?.exited;
  Bun.spawnSync(["ip", "link", "del", `${ns}a`]);
  Bun.spawnSync(["ip", "netns", "del", ns]);
  rmSync(dir, { recursive: true, force: true });
});

test("check refuses a listener beyond loopback without TLS and a token, naming file:line and key", async () => {
  const cfg = join(dir, "open.toml");
  writeFileSync(cfg, `[main]\nstate_dir = "${dir}/x"\nlisten = "0.0.0.0:9911"\n`);
  const r = await runBin(["check", "-c", cfg]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`${cfg}:3`);
  expect(r.stderr).toContain("set tls_cert and tls_key");
  expect(r.stderr).toContain("set token_file");
  writeFileSync(cfg, `[main]\nstate_dir = "${dir}/x"\nlisten = "127.0.0.1:9911"\ntls_cert = "/x"\n`);
  const half = await runBin(["check", "-c", cfg]);
  expect(half.code).toBe(2);
  expect(half.stderr).toContain("tls_cert and tls_key go together");
});

test("no token: the API answers 401 with a Bearer challenge, the page sends the browser to /login", async () => {
  const api = await get("/v1/status");
  expect(api.status).toBe(401);
  expect(api.headers.get("www-authenticate")).toBe('Bearer realm="storeventd"');
  expect((await get("/v1/status", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
  const page = await get("/");
  expect(page.status).toBe(303);
  expect(page.headers.get("location")).toBe("/login");
  expect((await get("/metrics")).status).toBe(401);
  // Plain HTTP to the TLS port gets no answer.
  await expect(fetch(`http://${inside}:${port}/v1/status`)).rejects.toThrow();
});

test("Bearer token: read routes answer; anything but GET/HEAD is 405", async () => {
  const auth = { authorization: `Bearer ${token}` };
  const st = await get("/v1/status", { headers: auth });
  expect(st.status).toBe(200);
  expect(((await st.json()) as { hostname: string }).hostname).toBe("sec-node");
  expect(st.headers.get("content-security-policy")).toContain("default-src 'none'");
  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    const r = await get("/v1/reload", { method, headers: auth });
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET, HEAD");
  }
});

test("login form: a wrong token is refused, the right one gives an HttpOnly Secure SameSite cookie that works", async () => {
  const form = (t: string, headers: Record<string, string> = {}) =>
    get("/login", { method: "POST", body: new URLSearchParams({ token: t }), headers: { "content-type": "application/x-www-form-urlencoded", ...headers } });
  expect((await form("nope")).status).toBe(401);
  expect((await form(token, { origin: "https://evil.example" })).status).toBe(403);
  const ok = await form(token, { origin });
  expect(ok.status).toBe(303);
  const cookie = ok.headers.get("set-cookie")!;
  expect(cookie).toMatch(/^storeventd_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
  expect(cookie).not.toContain(token);
  const session = cookie.split(";")[0]!;
  expect((await get("/v1/status", { headers: { cookie: session } })).status).toBe(200);
  expect((await get("/v1/status", { headers: { cookie: "storeventd_session=" + "0".repeat(64) } })).status).toBe(401);
});

test("WebSocket: a foreign Origin is refused even with the token; the listener's own origin with the token upgrades", async () => {
  const auth = { authorization: `Bearer ${token}` };
  expect(await upgrade({ ...auth, origin: "https://evil.example" })).toBe(403);
  expect(await upgrade({ ...auth, origin: `http://${inside}:${port}` })).toBe(403); // wrong scheme
  expect(await upgrade({ origin })).toBe(401);
  expect(await upgrade({ ...auth, origin })).toBe(101);
});

test("a real Chromium: token-less it lands on the login page; after logging in the console is live", async () => {
  expect(CHROMIUM).toBeDefined();
  const b = await openBrowser(`${origin}/`, ["--ignore-certificate-errors"]);
  try {
    await b.waitFor(`location.pathname === "/login" && document.querySelector("input[name=token]")`);
    await b.evaluate(`(() => { document.querySelector("input[name=token]").value = ${JSON.stringify(token)}; document.querySelector("form").submit(); })()`);
    await b.waitFor(`location.pathname === "/" && document.getElementById("conn") && document.getElementById("conn").textContent === "live"`, 15_000);
    expect(await b.evaluate<string>(`document.getElementById("host").textContent`)).toStartWith("sec-node");
    await b.waitFor(`document.querySelector('#rows tr[data-type="DAEMON_STARTED"]')`);
    // The session cookie is not readable by the page's script.
    expect(await b.evaluate<string>("document.cookie")).toBe("");
  } finally {
    await b.close();
  }
}, 60_000);
