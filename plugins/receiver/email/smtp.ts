// A small SMTP client (RFC 5321) over node:net / node:tls: EHLO, STARTTLS (RFC 3207) or implicit
// TLS (RFC 8314), AUTH PLAIN / LOGIN (RFC 4954), one message per conversation.
import type * as net from "node:net";
import type * as tls from "node:tls";
import { netLib, tlsLib } from "../../../src/plugin-kit/builtins.ts";

export interface SmtpOptions {
  host: string;
  port: number;
  security: "starttls" | "tls" | "none";
  /** Verify the server certificate (with ca when given, else the system store). */
  verify: boolean;
  ca?: string;
  username?: string;
  password?: string;
  auth: "auto" | "plain" | "login";
  helo: string;
  /** The whole conversation must finish within this (ms). */
  timeout: number;
}

export interface Envelope {
  from: string;
  to: string[];
  /** The message (headers + body) with CRLF line ends, not yet dot-stuffed. */
  data: string;
}

/** An SMTP error; `transient` for 4xx replies and network failures (worth a retry). */
export class SmtpError extends Error {
  constructor(message: string, readonly code: number, readonly transient: boolean) {
    super(message);
  }
}

interface Reply {
  code: number;
  lines: string[];
}

/** Reads CRLF lines from a socket and groups them into replies ("250-..." continues, "250 ..." ends). */
class ReplyReader {
  private buf = "";
  private lines: string[] = [];
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private detach: () => void;

  constructor(sock: net.Socket) {
    const onData = (d: Buffer) => {
      this.buf += d.toString("utf8");
      let i: number;
      while ((i = this.buf.indexOf("\n")) >= 0) {
        this.lines.push(this.buf.slice(0, i).replace(/\r$/, ""));
        this.buf = this.buf.slice(i + 1);
      }
      this.wake();
    };
    const onEnd = () => this.fail(new SmtpError("connection closed by server", 0, true));
    const onError = (e: Error) => this.fail(new SmtpError(e.message, 0, true));
    sock.on("data", onData);
    sock.on("end", onEnd);
    sock.on("close", onEnd);
    sock.on("error", onError);
    this.detach = () => {
      sock.off("data", onData);
      sock.off("end", onEnd);
      sock.off("close", onEnd);
      sock.off("error", onError);
    };
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }

  stop(): void {
    this.detach();
  }

  async read(): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      while (this.lines.length) {
        const l = this.lines.shift()!;
        const m = /^(\d{3})([ -])(.*)$/.exec(l);
        if (!m) throw new SmtpError(`malformed reply: ${l.slice(0, 100)}`, 0, true);
        lines.push(m[3]!);
        if (m[2] === " ") return { code: Number(m[1]), lines };
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
}

/** SMTP's transparency rule: a line starting with "." gets another "."; CRLF line ends. */
export function dotStuff(data: string): string {
  return data.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
}

async function connect(o: SmtpOptions): Promise<net.Socket> {
  const tls = o.security === "tls" ? tlsLib() : undefined;
  return new Promise((resolve, reject) => {
    const s =
      tls
        ? tls.connect({ host: o.host, port: o.port, servername: netLib().isIP(o.host) ? undefined : o.host, rejectUnauthorized: o.verify, ca: o.ca })
        : netLib().connect({ host: o.host, port: o.port });
    s.once(o.security === "tls" ? "secureConnect" : "connect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

async function upgrade(sock: net.Socket, o: SmtpOptions): Promise<tls.TLSSocket> {
  const tls = tlsLib();
  return new Promise((resolve, reject) => {
    const t = tls.connect({ socket: sock, servername: netLib().isIP(o.host) ? undefined : o.host, rejectUnauthorized: o.verify, ca: o.ca });
    t.once("secureConnect", () => {
      t.off("error", reject);
      resolve(t);
    });
    t.once("error", reject);
  });
}

/** Sends one message; resolves with the server's final reply text, throws SmtpError. */
export async function sendMail(o: SmtpOptions, env: Envelope, signal?: AbortSignal): Promise<string> {
  let sock: net.Socket | undefined;
  let reader: ReplyReader | undefined;
  let finished = false;
  const abort = (why: string) => {
    reader?.fail(new SmtpError(why, 0, true));
    sock?.destroy();
  };
  const timer = setTimeout(() => abort(`timed out after ${o.timeout} ms`), o.timeout);
  const onAbort = () => abort("aborted (shutting down)");
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    try {
      const connecting = connect(o);
      // A connect that completes after an abort or timeout is closed at once.
      connecting.then((s) => (finished ? s.destroy() : (sock = s)), () => {});
      sock = await Promise.race([
        connecting,
        new Promise<never>((_, reject) => {
          if (signal?.aborted) reject(new Error("aborted"));
          signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
          setTimeout(() => reject(new Error(`timed out after ${o.timeout} ms`)), o.timeout).unref?.();
        }),
      ]);
    } catch (e) {
      throw new SmtpError(`connect ${o.host}:${o.port}: ${(e as Error).message}`, 0, true);
    }
    reader = new ReplyReader(sock);
    const expect = async (what: string, ...ok: number[]): Promise<Reply> => {
      const r = await reader!.read();
      if (!ok.includes(r.code)) throw new SmtpError(`${what}: ${r.code} ${r.lines.join(" ")}`, r.code, r.code < 500);
      return r;
    };
    const cmd = async (line: string, what: string, ...ok: number[]): Promise<Reply> => {
      sock!.write(line + "\r\n");
      return expect(what, ...ok);
    };
    await expect("greeting", 220);
    let ehlo = await cmd(`EHLO ${o.helo}`, "EHLO", 250);
    if (o.security === "starttls") {
      if (!ehlo.lines.some((l) => /^STARTTLS\b/i.test(l))) throw new SmtpError("server does not offer STARTTLS", 0, false);
      await cmd("STARTTLS", "STARTTLS", 220);
      reader.stop();
      try {
        sock = await upgrade(sock, o);
      } catch (e) {
        throw new SmtpError(`TLS: ${(e as Error).message}`, 0, false);
      }
      reader = new ReplyReader(sock);
      ehlo = await cmd(`EHLO ${o.helo}`, "EHLO after STARTTLS", 250);
    }
    if (o.username !== undefined) {
      const offered = ehlo.lines.find((l) => /^AUTH[ =]/i.test(l))?.toUpperCase().split(/[ =]/).slice(1) ?? [];
      const mech = o.auth === "auto" ? (offered.includes("PLAIN") ? "PLAIN" : offered.includes("LOGIN") ? "LOGIN" : undefined) : o.auth.toUpperCase();
      if (!mech) throw new SmtpError(`server offers no usable AUTH (${offered.join(" ") || "none"})`, 0, false);
      const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
      if (mech === "PLAIN") {
        await cmd(`AUTH PLAIN ${b64(`\0${o.username}\0${o.password ?? ""}`)}`, "AUTH PLAIN", 235);
      } else {
        await cmd("AUTH LOGIN", "AUTH LOGIN", 334);
        await cmd(b64(o.username), "AUTH LOGIN user", 334);
        await cmd(b64(o.password ?? ""), "AUTH LOGIN password", 235);
      }
    }
    await cmd(`MAIL FROM:<${env.from}>`, "MAIL FROM", 250);
    for (const to of env.to) await cmd(`RCPT TO:<${to}>`, `RCPT TO ${to}`, 250, 251);
    await cmd("DATA", "DATA", 354);
    let body = dotStuff(env.data);
    if (!body.endsWith("\r\n")) body += "\r\n";
    const done = await cmd(body + ".", "end of DATA", 250);
    sock.write("QUIT\r\n");
    return done.lines.join(" ");
  } finally {
    finished = true;
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    reader?.stop();
    sock?.end();
    sock?.destroy();
  }
}
