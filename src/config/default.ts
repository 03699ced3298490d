// The embedded default config (SPEC §3): kmsg + udev senders, the journal sender (storage daemons'
// entries) when a journal exists, every parser, the DRBD source when drbdsetup is on PATH, the local
// store, and the journal when journald runs, else stdout.
// Built from what is registered, so a build without a plugin still starts.
import { existsSync } from "node:fs";
import type { Registry } from "../registry.ts";

export function embeddedDefault(registry: Registry): string {
  const has = (kind: "sender" | "receiver", name: string) => registry.get(kind, name) !== undefined;
  const out: string[] = ["# storeventd embedded default", "[main]"];
  for (const s of ["kmsg", "udev"]) if (has("sender", s)) out.push(`[${s}]`, `type = "sender"`);
  const journal = existsSync("/run/systemd/journal/socket") || existsSync("/var/log/journal");
  if (has("sender", "journal") && journal) out.push(`[storage_daemons]`, `type = "sender"`, `plugin = "journal"`);
  if (has("sender", "drbd") && Bun.which("drbdsetup")) out.push(`[drbd]`, `type = "sender"`);
  if (has("receiver", "store")) out.push(`[store]`, `type = "receiver"`);
  const journald = existsSync("/run/systemd/journal/socket") && has("receiver", "journald");
  if (journald) out.push(`[journal]`, `type = "receiver"`, `plugin = "journald"`);
  else if (has("receiver", "stdout")) out.push(`[stdout]`, `type = "receiver"`);
  return out.join("\n") + "\n";
}
