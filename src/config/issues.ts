// Config errors that name file, line and key: `[journal] filter.severity[2]: expected one of
// info|warn|error, got "critical" (storeventd.toml:14)`.
import type * as v from "valibot";
import type { KeyPath } from "./toml-lines.ts";
import { didYouMean } from "./did-you-mean.ts";

export interface ConfigIssue {
  file: string;
  line?: number;
  /** "[journal]" or "" for file-level problems. */
  scope: string;
  key: KeyPath;
  message: string;
}

export function formatKey(path: KeyPath): string {
  let s = "";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

export function formatIssue(i: ConfigIssue): string {
  const where = [i.scope, formatKey(i.key)].filter(Boolean).join(" ");
  const at = i.line ? `${i.file}:${i.line}` : i.file;
  return `${where ? where + ": " : ""}${i.message} (${at})`;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "ConfigError";
  }
}

type AnyIssue = v.BaseIssue<unknown> & { issues?: AnyIssue[] };

function depth(i: AnyIssue): number {
  return (i.path?.length ?? 0) + (i.issues ? Math.max(0, ...i.issues.map(depth)) : 0);
}

function keysOf(i: AnyIssue): KeyPath {
  return (i.path ?? []).map((p) => p.key as string | number);
}

/** The most specific issue inside a union's failed alternatives, with its full key path. */
function specific(i: AnyIssue, outer: KeyPath = []): { issue: AnyIssue; key: KeyPath } {
  const own = keysOf(i);
  const key = own.length >= outer.length && outer.every((k, n) => own[n] === k) ? own : [...outer, ...own];
  if (i.type !== "union" || !i.issues?.length) return { issue: i, key };
  const best = i.issues.reduce((a, b) => (depth(b) > depth(a) ? b : a));
  return specific(best, key);
}

function knownKeys(schema: unknown, path: KeyPath): string[] {
  let s = schema as { entries?: Record<string, unknown>; wrapped?: unknown; pipe?: unknown[]; item?: unknown; type?: string };
  const unwrap = (x: typeof s): typeof s => {
    for (let n = 0; n < 10 && x; n++) {
      if (x.entries) return x;
      if (x.wrapped) x = x.wrapped as typeof s;
      else if (x.pipe && x.pipe[0] !== x) x = x.pipe[0] as typeof s;
      else if (x.item) x = x.item as typeof s;
      else break;
    }
    return x;
  };
  for (const p of path) {
    s = unwrap(s);
    if (typeof p === "number") continue;
    s = s?.entries?.[p] as typeof s;
  }
  s = unwrap(s);
  return Object.keys(s?.entries ?? {});
}

/** Turns valibot issues into ConfigIssues; `prefix` is where the validated value sits. */
export function fromValibot(
  issues: readonly v.BaseIssue<unknown>[],
  schema: unknown,
  where: { file: string; scope: string; prefix: KeyPath; lineOf: (p: KeyPath) => number | undefined },
): ConfigIssue[] {
  return issues.map((raw) => {
    const { issue: i, key } = specific(raw as AnyIssue);
    let message: string;
    if ((i.type === "strict_object" || i.type === "object") && i.received === "undefined" && key.length) {
      message = "missing (required)";
    } else if (i.type === "strict_object" || (i.expected === "never" && key.length)) {
      const bad = String(key[key.length - 1]);
      message = `unknown key "${bad}"${didYouMean(bad, knownKeys(schema, key.slice(0, -1)))}`;
    } else if (i.type === "picklist" && i.expected) {
      message = `expected one of ${i.expected.replace(/^\((.*)\)$/, "$1").replaceAll('"', "").split(" | ").join("|")}, got ${i.received}`;
    } else if (i.kind === "schema" && i.expected && i.received) {
      message = i.received === "undefined" ? `missing, expected ${i.expected}` : `expected ${i.expected}, got ${i.received}`;
    } else {
      message = i.message;
    }
    return { file: where.file, line: where.lineOf([...where.prefix, ...key]), scope: where.scope, key, message };
  });
}
