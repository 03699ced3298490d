// A config that names no parser runs every parser (SPEC §4).
import * as v from "valibot";
import type { PluginKind } from "../plugin-api.ts";
import type { Registry } from "../registry.ts";
import type { Config, InstanceConfig } from "./load.ts";

export function withImplicitParsers(cfg: Config, registry: Registry): InstanceConfig[] {
  if (cfg.instances.some((i) => i.kind === "parser")) return cfg.instances;
  const implicit = registry.list("parser").map((def) => ({
    name: def.name, kind: "parser" as PluginKind, plugin: def.name, def, options: v.parse(def.schema, {}), raw: {},
    queue: { max_events: 1, when_full: "drop_oldest" as const, batch: 1 }, file: "(implicit)",
    fingerprint: `implicit:${def.name}`,
  }));
  return [...cfg.instances, ...implicit];
}
