// The listener's address: "[HOST]:PORT", "HOST:PORT" or "PORT" (127.0.0.1), and whether it is loopback.

export function parseListen(listen: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(listen.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port < 65536)) throw new Error(`listen: expected "[HOST]:PORT" or "PORT", got "${listen}"`);
  return { hostname: m[1] ?? (m[2] || "127.0.0.1"), port };
}

/** True for an address that only this host can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}
