// The one-line human form of an event, shared by the stdout receiver, replay and monitor.
import type { StorageEvent } from "../event.ts";

const COLOR: Record<string, string> = { error: "\x1b[31m", warn: "\x1b[33m", info: "\x1b[32m" };

export function formatEventLine(e: StorageEvent, color = false): string {
  const sev = color ? `${COLOR[e.severity] ?? ""}${e.severity.padEnd(5)}\x1b[0m` : e.severity.padEnd(5);
  const dev = e.dev_name ? ` ${e.dev_name}` : "";
  const rep = typeof e.extension["repeat"] === "number" ? ` (x${e.extension["repeat"]})` : "";
  return `${e.time} ${e.hostname} ${sev} ${e.system}/${e.event_type}${dev}: ${e.msg}${rep}`;
}

/** 1536 -> "1.5 KiB"; negative: "unknown size". */
export function formatBytes(n: number): string {
  if (n < 0) return "unknown size";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}
