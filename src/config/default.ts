// The embedded default config (SPEC §3), assembled from what the registered plugins contribute
// (PluginDef.embeddedDefault) and what this host has: a build without a plugin still starts, and
// the core names no plugin.
import { existsSync } from "node:fs";
import type { EmbeddedDefault, HostFacts } from "../plugin-api.ts";
import type { Registry } from "../registry.ts";

export type { HostFacts };

export function hostFacts(): HostFacts {
  const journald = existsSync("/run/systemd/journal/socket");
  return { journald, journal: journald || existsSync("/var/log/journal"), drbdsetup: Bun.which("drbdsetup") !== null };
}

export function embeddedDefault(registry: Registry, host: HostFacts = hostFacts()): string {
  const parts = registry.list()
    .flatMap((d) => (d.embeddedDefault ? [{ d, e: d.embeddedDefault as EmbeddedDefault }] : []))
    .filter(({ e }) => !e.needs || host[e.needs])
    .sort((a, b) => a.e.order - b.e.order);
  const slots = new Set<string>();
  const out: string[] = ["# storeventd embedded default", "[main]"];
  for (const { d, e } of parts) {
    if (e.slot) {
      if (slots.has(e.slot)) continue;
      slots.add(e.slot);
    }
    const name = e.instance ?? d.name;
    out.push(`[${name}]`, `type = "${d.kind}"`);
    if (name !== d.name) out.push(`plugin = "${d.name}"`);
  }
  return out.join("\n") + "\n";
}
