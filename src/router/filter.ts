// Instance filters: severity, min_severity, system, event_type and dev_name globs, source.
import { SEVERITY_RANK, type StorageEvent } from "../event.ts";
import type { FilterConfig } from "../config/schema.ts";

export type EventFilter = (e: StorageEvent) => boolean;

export function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^(?:${re})$`);
}

function anyGlob(globs: string[] | undefined): ((s: string) => boolean) | undefined {
  if (!globs) return undefined;
  const res = globs.map(globToRegExp);
  return (s) => res.some((r) => r.test(s));
}

export function compileFilter(f: FilterConfig | undefined): EventFilter {
  if (!f) return () => true;
  const sev = f.severity && new Set<string>(f.severity);
  const min = f.min_severity ? SEVERITY_RANK[f.min_severity] : -1;
  const sys = f.system && new Set<string>(f.system);
  const type = anyGlob(f.event_type);
  const dev = anyGlob(f.dev_name);
  const src = f.source && new Set(f.source);
  return (e) =>
    (!sev || sev.has(e.severity)) &&
    SEVERITY_RANK[e.severity] >= min &&
    (!sys || sys.has(e.system)) &&
    (!type || type(e.event_type)) &&
    (!dev || dev(e.dev_name)) &&
    (!src || src.has(e.source));
}
