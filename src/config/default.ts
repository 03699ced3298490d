// The embedded default config (SPEC §3): kmsg + udev senders, the journal sender (storage daemons'
// entries) when a journal exists, every parser, the DRBD source when drbdsetup is on PATH, the local
// store, and the journal when journald runs, else stdout.
// Built from what is registered, so a build without a plugin still starts.
import { existsSync } from "node:fs";
import type { Registry } from "../registry.ts";

/** What the embedded default depends on beyond the registry (tests fix it; the host is not theirs). */
export interface HostFacts {
  /** journald runs (its socket): the journal receiver. */
  journald: boolean;
  /** A journal to read (the socket or /var/log/journal): the journal sender. */
  journal: boolean;
  drbdsetup: boolean;
}

export function hostFacts(): HostFacts {
  const journald = existsSync("/run/systemd/journal/socket");
  return { journald, journal: journald || existsSync("/var/log/journal"), drbdsetup: Bun.which("drbdsetup") !== null };
}

export function embeddedDefault(registry: Registry, host: HostFacts = hostFacts()): string {
  const has = (kind: "sender" | "receiver", name: string) => registry.get(kind, name) !== undefined;
  const out: string[] = ["# storeventd embedded default", "[main]"];
  for (const s of ["kmsg", "udev"]) if (has("sender", s)) out.push(`[${s}]`, `type = "sender"`);
  if (has("sender", "journal") && host.journal) out.push(`[storage_daemons]`, `type = "sender"`, `plugin = "journal"`);
  if (has("sender", "drbd") && host.drbdsetup) out.push(`[drbd]`, `type = "sender"`);
  if (has("receiver", "store")) out.push(`[store]`, `type = "receiver"`);
  const journald = host.journald && has("receiver", "journald");
  if (journald) out.push(`[journal]`, `type = "receiver"`, `plugin = "journald"`);
  else if (has("receiver", "stdout")) out.push(`[stdout]`, `type = "receiver"`);
  return out.join("\n") + "\n";
}
