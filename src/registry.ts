// The plugin registry: plugins register themselves (plugins/all.ts, imported only by the entry
// point), and the core looks them up by kind and name. The core never imports a plugin by name.
import type { AnyPluginDef, PluginKind } from "./plugin-api.ts";

export class Registry {
  private defs = new Map<string, AnyPluginDef>();

  constructor(defs: readonly AnyPluginDef[] = []) {
    for (const d of defs) this.register(d);
  }

  register(def: AnyPluginDef): void {
    const key = `${def.kind}:${def.name}`;
    if (this.defs.has(key)) throw new Error(`plugin ${key} registered twice`);
    this.defs.set(key, def);
  }

  get(kind: PluginKind, name: string): AnyPluginDef | undefined {
    return this.defs.get(`${kind}:${name}`);
  }

  /** Every kind that has a plugin of this name (to infer a missing `type`). */
  kindsOf(name: string): PluginKind[] {
    return (["sender", "parser", "receiver"] as const).filter((k) => this.defs.has(`${k}:${name}`));
  }

  list(kind?: PluginKind): AnyPluginDef[] {
    return [...this.defs.values()].filter((d) => !kind || d.kind === kind);
  }
}
