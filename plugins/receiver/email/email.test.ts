// email receiver: message building, and mails through a real aiosmtpd server started by the test
// (plain, STARTTLS, implicit TLS, AUTH PLAIN/LOGIN), server down -> retried with backoff, counted.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { checkSampleAndReadme, freePort, until, makeEvent, receiverContext, schemaErrors } from "../../../test/helpers/receiver.ts";
import plugin, { EmailReceiver, parseServer } from "./index.ts";
import { bodyOf, buildMessage, encodeHeader, quotedPrintable, subjectOf } from "./message.ts";
import { dotStuff } from "./smtp.ts";
import { need } from "../../../test/helpers/need.ts";

const dir = import.meta.dir;
const PY = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const hasAiosmtpd = Bun.spawnSync([PY, "-c", "import aiosmtpd"]).exitCode === 0;
const tmp = mkdtempSync(join(tmpdir(), "sevd-email-"));
const cert = join(tmp, "cert.pem");
const key = join(tmp, "key.pem");

function qpDecode(s: string): string {
  const bytes: number[] = [];
  const text = s.replace(/=\r?\n/g, "");
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "=" && /^[0-9A-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i]!, "utf8"));
  }
  return Buffer.from(bytes).toString("utf8");
}

function parseMail(data: string): { headers: Record<string, string>; body: string } {
  const [head, ...rest] = data.split(/\r?\n\r?\n/);
  const headers: Record<string, string> = {};
  for (const l of head!.replace(/\r?\n[ \t]/g, " ").split(/\r?\n/)) {
    const i = l.indexOf(":");
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { headers, body: qpDecode(rest.join("\r\n\r\n")).replace(/\r\n/g, "\n") };
}

interface Server {
  port: number;
  out: string;
  proc: ReturnType<typeof Bun.spawn>;
  stop(): Promise<void>;
  mails(): { mail_from: string; rcpt_tos: string[]; data: string; auth_user: string | null; tls: boolean }[];
}
const servers: Server[] = [];

async function startSmtp(mode: "plain" | "starttls" | "tls", env: Record<string, string> = {}, port?: number): Promise<Server> {
  port ??= await freePort();
  const out = mkdtempSync(join(tmp, "out-"));
  const args = [PY, join(dir, "testdata/smtpd.py"), String(port), out, mode, ...(mode === "plain" ? [] : [cert, key])];
  const proc = Bun.spawn(args, { stdin: "pipe", stdout: "pipe", stderr: "ignore", env: { ...process.env, ...env } });
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  expect(new TextDecoder().decode(value)).toContain("ready");
  const srv: Server = {
    port, out, proc,
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
    mails: () =>
      readdirSync(out).filter((f) => f.endsWith(".json")).sort((a, b) => parseInt(a) - parseInt(b))
        .map((f) => JSON.parse(readFileSync(join(out, f), "utf8"))),
  };
  servers.push(srv);
  return srv;
}

const waitFor = (f: () => boolean) => until(f, 3000);

async function make(opts: Record<string, unknown>) {
  const { ctx, rec } = receiverContext();
  const r = (await plugin.create(v.parse(plugin.schema, { from: "storeventd@node-a.example", to: ["oncall@example.org"], ...opts }), ctx)) as EmailReceiver;
  return { r, counts: rec.counts, logs: rec.logs, ctx };
}

beforeAll(() => {
  const p = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]);
  expect(p.exitCode).toBe(0);
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("email message", () => {
  test("subjectOf() names host, severities, types and devices", () => {
    const a = makeEvent();
    expect(subjectOf([a], "[storeventd]", "x")).toBe("[storeventd] node-a: ERROR: DM_MPATH_PATH_DOWN (sdc)");
    const b = makeEvent({ severity: "warn", event_type: "SCSI_SENSE", dev_name: "sdb" });
    const c = makeEvent({ severity: "error", event_type: "FS_ERROR", dev_name: "dm-3\r\nBcc: evil@x" });
    expect(subjectOf([a, b, c], "", "x")).toBe("node-a: 2 error, 1 warn: DM_MPATH_PATH_DOWN, SCSI_SENSE, FS_ERROR (sdc, sdb, dm-3 Bcc: evil@x)");
  });

  test("bodyOf() lists each event with device, owners, details and raw, then the devices", () => {
    const e = makeEvent({ raw: "line one\nline two" });
    const body = bodyOf([e], (d) => ({ dev_name: d, dev_path: `/dev/${d}`, dev_wwid: "WWID-NOW", owners: [{ dev_name: "dm-9", dev_wwid: "" }] }), "h");
    expect(body).toContain(`1. [ERROR] DM_MPATH_PATH_DOWN sdc\n   ${e.msg}\n`);
    expect(body).toContain("   device: sdc  path: /dev/sdc  wwid: naa.600a098038304437415d4b6a59684a52");
    expect(body).toContain("   owners: dm-3 (3600a098038304437415d4b6a59684a52)");
    expect(body).toContain("   details: map=mpatha  nr_valid_paths=1  path_devt=8:32");
    expect(body).toContain("   raw:\n     line one\n     line two\n");
    expect(body).toContain(`event_id: ${e.event_id}`);
    expect(body).toContain("Devices (as known now):\n  sdc: path /dev/sdc, wwid WWID-NOW, used by dm-9");
  });

  test("quotedPrintable() and encodeHeader() keep lines short and non-ASCII intact", () => {
    const text = "é".repeat(100) + " end=\n" + ".dot line \n";
    const qp = quotedPrintable(text);
    for (const l of qp.split("\r\n")) expect(l.length).toBeLessThanOrEqual(76);
    expect(qpDecode(qp).replace(/\r\n/g, "\n")).toBe(text);
    const h = encodeHeader("Plattenfehler ä".repeat(6));
    expect(h).toMatch(/^=\?UTF-8\?B\?/);
    const decoded = h.split("\r\n ").map((w) => Buffer.from(w.slice(10, -2), "base64").toString()).join("");
    expect(decoded).toBe("Plattenfehler ä".repeat(6));
    expect(dotStuff(".a\n..b\nc.")).toBe("..a\r\n...b\r\nc.");
  });

  test("buildMessage() has the headers a mail client needs", () => {
    const m = buildMessage([makeEvent()], { from: "a@b.c", to: ["x@y.z", "u@v.w"], subjectPrefix: "[s]", hostname: "node-a", identify: (d) => ({ dev_name: d, dev_path: "", dev_wwid: "", owners: [] }), now: new Date(Date.UTC(2026, 10, 26, 1, 2, 3)), messageId: "m1" });
    const { headers } = parseMail(m.data);
    expect(headers).toMatchObject({ from: "a@b.c", to: "x@y.z, u@v.w", date: "Thu, 26 Nov 2026 01:02:03 +0000", "message-id": "<m1@node-a>", "content-type": "text/plain; charset=utf-8" });
  });
});

describe("email config errors", () => {
  test("schema: bad server, addresses, empty recipients, unknown security", () => {
    const base = { from: "a@b.c", to: ["x@y.z"], server: "127.0.0.1:25" };
    expect(schemaErrors(plugin, base)).toEqual([]);
    expect(schemaErrors(plugin, { ...base, server: "mail example:25" })[0]).toContain("HOST[:PORT]");
    expect(schemaErrors(plugin, { ...base, server: "mx:99999" })[0]).toContain("port");
    expect(schemaErrors(plugin, { ...base, from: "storeventd" })[0]).toContain("e-mail address");
    expect(schemaErrors(plugin, { ...base, to: [] })[0]).toContain("at least one recipient");
    expect(schemaErrors(plugin, { ...base, to: ["a@b.c>\r\nRCPT TO:<evil@x"] })[0]).toContain("e-mail address");
    expect(schemaErrors(plugin, { ...base, security: "ssl" })[0]).toContain("security");
    expect(schemaErrors(plugin, { to: ["x@y.z"], from: "a@b.c" })[0]).toContain("server");
  });

  test("create(): username without password, both password kinds, AUTH in clear text, missing files", async () => {
    const { ctx } = receiverContext();
    const create = (o: Record<string, unknown>) =>
      Promise.resolve().then(() => plugin.create(v.parse(plugin.schema, { from: "a@b.c", to: ["x@y.z"], server: "mx.example:587", ...o }), ctx));
    await expect(create({ username: "u" })).rejects.toThrow("give both or neither");
    await expect(create({ password: "p" })).rejects.toThrow("give both or neither");
    await expect(create({ username: "u", password: "p", password_file: "/x" })).rejects.toThrow("give one");
    await expect(create({ username: "u", password_file: join(tmp, "absent") })).rejects.toThrow("password_file");
    await expect(create({ username: "u", password: "p", security: "none" })).rejects.toThrow("clear text");
    await expect(create({ ca_file: join(tmp, "absent.pem") })).rejects.toThrow("ca_file");
    expect(await create({ username: "u", password: "p" })).toBeInstanceOf(EmailReceiver);
    expect(parseServer("[::1]", "tls")).toEqual({ host: "::1", port: 465 });
  });

  test("sample.toml validates and equals the README's Configuration block", () => {
    checkSampleAndReadme(plugin, dir);
  });
});

describe("email against a real aiosmtpd", () => {
  beforeAll(() => need({ "python3-aiosmtpd": hasAiosmtpd }));
  test("STARTTLS + AUTH PLAIN: a batch of batch_max events is one mail with the right contents", async () => {
    const srv = await startSmtp("starttls", { SMTP_USER: "alerts", SMTP_PASSWORD: "s3cr=t é" });
    const { r, counts, ctx } = await make({ server: `localhost:${srv.port}`, ca_file: cert, username: "alerts", password: "s3cr=t é", batch_max: 3, batch_wait: "1m" });
    const events = [makeEvent(), makeEvent({ severity: "warn", event_type: "SCSI_SENSE", system: "scsi", dev_name: "sdb", raw: ".leading dot\nsd 2:0:0:1: [sdb] Sense Key : Medium Error" }), makeEvent({ msg: "ümlaut and a very long line ".repeat(10) })];
    const t0 = performance.now();
    await r.send(events);
    const ms = performance.now() - t0;
    const mails = srv.mails();
    expect(mails.length).toBe(1);
    expect(mails[0]!.tls).toBe(true);
    expect(mails[0]!.auth_user).toBe("alerts");
    expect(mails[0]!.mail_from).toBe("storeventd@node-a.example");
    expect(mails[0]!.rcpt_tos).toEqual(["oncall@example.org"]);
    const { headers, body } = parseMail(mails[0]!.data);
    expect(headers.subject).toBe("[storeventd] node-a: 2 error, 1 warn: DM_MPATH_PATH_DOWN, SCSI_SENSE (sdc, sdb)");
    expect(body).toBe(bodyOf(events, (d) => ctx.devices.identify(d), "x"));
    expect(body).toContain("     .leading dot\n");
    expect(counts.get("sent")).toBe(3);
    expect(counts.get("mails")).toBe(1);
    console.log(`email: STARTTLS+AUTH mail of 3 events delivered in ${ms.toFixed(1)} ms`);
  });

  test("implicit TLS + AUTH LOGIN, partial batch sent after batch_wait", async () => {
    const srv = await startSmtp("tls", { SMTP_USER: "u", SMTP_PASSWORD: "p" });
    const { r, counts } = await make({ server: `127.0.0.1:${srv.port}`, security: "tls", ca_file: cert, username: "u", password: "p", auth: "login", batch_max: 10, batch_wait: "200ms" });
    const t0 = performance.now();
    await r.send([makeEvent({ severity: "info", event_type: "DEVICE_ADDED", system: "block" })]);
    expect(srv.mails().length).toBe(0);
    await waitFor(() => srv.mails().length === 1);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(srv.mails()[0]!.auth_user).toBe("u");
    expect(parseMail(srv.mails()[0]!.data).headers.subject).toBe("[storeventd] node-a: INFO: DEVICE_ADDED (sdc)");
    expect(counts.get("sent")).toBe(1);
  });

  test("close() sends the pending partial batch", async () => {
    const srv = await startSmtp("plain");
    const { r, counts } = await make({ server: `127.0.0.1:${srv.port}`, security: "none", batch_max: 10, batch_wait: "1h" });
    await r.send([makeEvent({ msg: "pending at shutdown" })]);
    expect(srv.mails().length).toBe(0);
    await r.close();
    expect(srv.mails().length).toBe(1);
    expect(parseMail(srv.mails()[0]!.data).body).toContain("pending at shutdown");
    expect(counts.get("sent")).toBe(1);
  });

  test("close() gives up on a server that hangs after its grace", async () => {
    const hang = net.createServer(() => {});
    await new Promise<void>((res) => hang.listen(0, "127.0.0.1", () => res()));
    const port = (hang.address() as net.AddressInfo).port;
    const { r, counts } = await make({ server: `127.0.0.1:${port}`, security: "none", batch_max: 10, timeout: "1m" });
    await r.send([makeEvent()]);
    const t0 = performance.now();
    await r.close(300);
    const ms = performance.now() - t0;
    hang.close();
    expect(ms).toBeLessThan(1500);
    expect(counts.get("errors")).toBe(1);
  });

  test("wrong password is a permanent error: not retried, counted", async () => {
    const srv = await startSmtp("starttls", { SMTP_USER: "u", SMTP_PASSWORD: "p" });
    const { r, counts, logs } = await make({ server: `127.0.0.1:${srv.port}`, ca_file: cert, username: "u", password: "wrong", batch_max: 1 });
    await r.send([makeEvent()]);
    expect(counts.get("errors")).toBe(1);
    expect(counts.get("retries")).toBeUndefined();
    expect(logs.join("\n")).toContain("535");
  });

  test("an untrusted certificate fails (tls_verify), and works with tls_verify = false", async () => {
    const srv = await startSmtp("starttls");
    const bad = await make({ server: `127.0.0.1:${srv.port}`, batch_max: 1, retries: 0 });
    await bad.r.send([makeEvent()]);
    expect(bad.counts.get("errors")).toBe(1);
    expect(srv.mails().length).toBe(0);
    const ok = await make({ server: `127.0.0.1:${srv.port}`, tls_verify: false, batch_max: 1 });
    await ok.r.send([makeEvent()]);
    expect(srv.mails().length).toBe(1);
  });

  test("server down: retried with backoff, counted, delivered once it is back; 451 retried too", async () => {
    const port = await freePort();
    const { r, counts } = await make({ server: `127.0.0.1:${port}`, security: "none", batch_max: 1, retries: 6, retry_wait: "100ms" });
    const sending = r.send([makeEvent({ msg: "while down" })]);
    await waitFor(() => (counts.get("retries") ?? 0) >= 2);
    expect(counts.get("sent")).toBeUndefined();
    const srv = await startSmtp("plain", { SMTP_FAIL_FIRST: "1" }, port);
    await sending;
    expect(counts.get("sent")).toBe(1);
    expect(counts.get("retries")).toBeGreaterThanOrEqual(3); // >= 2 refused + 1 for the 451
    expect(srv.mails().length).toBe(1);
    expect(parseMail(srv.mails()[0]!.data).body).toContain("while down");
  });

  test("server down for good: bounded retries, then the events count as errors and send() returns", async () => {
    const port = await freePort();
    const { r, counts } = await make({ server: `127.0.0.1:${port}`, security: "none", batch_max: 2, retries: 2, retry_wait: "50ms" });
    const t0 = performance.now();
    await r.send([makeEvent(), makeEvent()]);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(counts.get("retries")).toBe(2);
    expect(counts.get("errors")).toBe(2);
    expect(r.status().last_error).toContain("connect");
  });

  test("a server that accepts but never answers: the conversation times out", async () => {
    const hang = net.createServer(() => {});
    await new Promise<void>((res) => hang.listen(0, "127.0.0.1", () => res()));
    const port = (hang.address() as net.AddressInfo).port;
    const { r, counts } = await make({ server: `127.0.0.1:${port}`, security: "none", batch_max: 1, retries: 0, timeout: "300ms" });
    const t0 = performance.now();
    await r.send([makeEvent()]);
    const ms = performance.now() - t0;
    hang.close();
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(2000);
    expect(counts.get("errors")).toBe(1);
    expect(r.status().last_error).toContain("timed out");
  });
});
