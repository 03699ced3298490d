// HTTP answers shared by the control socket and the TCP listener: JSON bodies and {error, detail}.

export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, detail: string, readonly headers: Record<string, string> = {}) {
    super(detail);
  }
}

// Every plain answer closes its connection: no idle keep-alive connections to hold (Bun's idle
// timeout is off on the control socket because it also cuts quiet follow streams; a request that
// does not arrive whole within ~10 s is closed by Bun's HTTP layer regardless).
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body) + "\n", { status, headers: { "content-type": "application/json", connection: "close", ...headers } });
}

export function errorResponse(status: number, code: string, detail: string, headers: Record<string, string> = {}): Response {
  return json({ error: code, detail }, status, headers);
}

/** Throws 405 unless the request only reads. */
export function onlyRead(req: Request, path: string): void {
  if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, "method_not_allowed", `${req.method} ${path}: use GET`, { allow: "GET, HEAD" });
}
