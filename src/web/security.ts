// Who may use the TCP listener. On loopback with no token_file it is open (as /metrics usually is);
// beyond loopback it needs TLS and an access token (the config check refuses otherwise). A client
// shows the token as `Authorization: Bearer TOKEN`, or once through the login form, which gives
// the browser an HttpOnly session cookie (a random id, never the token itself).

export const SESSION_COOKIE = "storeventd_session";
const SESSION_TTL_MS = 12 * 3600_000;
const MAX_SESSIONS = 1000;

/** The strict policy every answer carries: the console's own script and style, nothing inline. */
export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  // same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on form posts.
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** Constant-time comparison (time depends on the length only). Not node:crypto's timingSafeEqual:
 * loading that module costs every start-up ~3 ms. */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

export class AccessPolicy {
  private sessions = new Map<string, number>();
  readonly counters = { denied: 0, logins: 0, login_failures: 0, bad_origin: 0 };

  constructor(private readonly token: string | undefined, readonly tls: boolean) {}

  get required(): boolean {
    return this.token !== undefined;
  }

  /** True when the request carries the token or a live session cookie (or none is required). */
  allows(req: Request): boolean {
    if (!this.token) return true;
    const auth = req.headers.get("authorization");
    if (auth?.startsWith("Bearer ") && sameSecret(auth.slice(7).trim(), this.token)) return true;
    const id = cookieValue(req.headers.get("cookie"), SESSION_COOKIE);
    const until = id ? this.sessions.get(id) : undefined;
    if (until !== undefined && until > Date.now()) return true;
    if (id && until !== undefined) this.sessions.delete(id);
    this.counters.denied++;
    return false;
  }

  /** A login with the right token gives a new session id, else undefined. */
  login(token: string): string | undefined {
    if (!this.token || !sameSecret(token.trim(), this.token)) {
      this.counters.login_failures++;
      return undefined;
    }
    const now = Date.now();
    for (const [id, until] of this.sessions) if (until <= now || this.sessions.size >= MAX_SESSIONS) this.sessions.delete(id);
    const id = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
    this.sessions.set(id, now + SESSION_TTL_MS);
    this.counters.logins++;
    return id;
  }

  sessionCookie(id: string): string {
    return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${this.tls ? "; Secure" : ""}`;
  }

  /**
   * A browser's WebSocket or form post must come from a page of this listener: its Origin equals
   * the listener's own origin (scheme and the Host the client used). Clients that send no Origin
   * (curl, scripts) are not browsers and pass; they still need the token.
   */
  sameOrigin(req: Request): boolean {
    const origin = req.headers.get("origin");
    if (origin === null) return true;
    const host = req.headers.get("host");
    const ok = host !== null && origin === `${this.tls ? "https" : "http"}://${host}`;
    if (!ok) this.counters.bad_origin++;
    return ok;
  }
}

export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}
