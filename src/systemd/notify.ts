// sd_notify(3) and the service watchdog over $NOTIFY_SOCKET. The socket is AF_UNIX datagram, which
// Bun does not offer, so the addon sends; when the addon could not load, systemd-notify(1) sends on
// our behalf (it reports its parent's PID, which is this process, so NotifyAccess=main accepts it).
// Every function is a no-op returning false when not started by systemd.
import { nativeAddon } from "../native.ts";

export type Env = Record<string, string | undefined>;

/** The notification socket from the environment, or null when absent or not a unix socket path. */
export function notifySocket(env: Env = process.env): string | null {
  const p = env.NOTIFY_SOCKET;
  if (!p || p.length < 2) return null;
  return p[0] === "/" || p[0] === "@" ? p : null;
}

/**
 * Sends one state string such as "READY=1", "STATUS=12 events", "STOPPING=1" or several
 * newline-separated assignments. True when the service manager got it.
 */
export function sdNotify(state: string): boolean {
  const path = notifySocket();
  if (!path || state === "") return false;
  const addon = nativeAddon();
  if (addon) return addon.unixDgramSend(path, state) === 0;
  return notifyViaHelper(path, state);
}

/** The addon-less path: one systemd-notify(1) run per message (rare: start, reload, stop). */
export function notifyViaHelper(path: string, state: string, helper = "systemd-notify"): boolean {
  const lines = state.split("\n").filter((l) => l.includes("="));
  if (lines.length === 0) return false;
  // Bun.spawnSync, not node:child_process: that module would load at every start for this rare path.
  try {
    const r = Bun.spawnSync([helper, ...lines], {
      env: { ...process.env, NOTIFY_SOCKET: path },
      stdio: ["ignore", "ignore", "ignore"],
      timeout: 5000,
    });
    return r.exitCode === 0;
  } catch {
    return false; // no such helper
  }
}

/**
 * The keep-alive interval in ms when the service manager asked for watchdog pings
 * (WatchdogSec= sets WATCHDOG_USEC; WATCHDOG_PID, when set, must be this process): half the
 * timeout, as sd_watchdog_enabled(3) recommends. Null when there is no watchdog.
 */
export function watchdogIntervalMs(env: Env = process.env, pid = process.pid): number | null {
  const usec = env.WATCHDOG_USEC;
  if (!usec || !/^\d+$/.test(usec)) return null;
  const wpid = env.WATCHDOG_PID;
  if (wpid !== undefined && wpid !== "" && Number(wpid) !== pid) return null;
  const ms = Number(usec) / 2000;
  return ms >= 1 ? ms : null;
}

/**
 * Pings WATCHDOG=1 at half the watchdog timeout while the event loop is alive (a hung loop stops
 * the pings, so systemd restarts the daemon). The timer does not keep the process alive.
 * Returns the stop function (a no-op when there is no watchdog).
 */
export function startWatchdog(send: (state: string) => boolean = sdNotify): () => void {
  const ms = watchdogIntervalMs();
  if (ms === null || !notifySocket()) return () => {};
  send("WATCHDOG=1");
  const timer = setInterval(() => send("WATCHDOG=1"), ms);
  timer.unref();
  return () => clearInterval(timer);
}
