// `ctl status` and `ctl ls`: drbd-reactorctl's output, text and JSON. Each table's section (its
// `--json` key, items, text and ls lines) comes from the plugin that owns the table (CtlSnippet.status);
// sections appear in the tables' order, each over all snippets, enabled ones first.
import type { CtlPaint } from "../plugin-api.ts";
import { type CtlTables, type Out, readSnippet } from "./snippets.ts";

export type Paint = CtlPaint;

export function paint(tty: boolean): Paint {
  const c = (code: string) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { green: c("1;32"), red: c("1;31"), yellow: c("1;33"), blue: c("34"), bold: c("1") };
}

/** Each table's status items, by table. */
export type Status = Map<string, unknown[]>;

const tagged = (enabled: string[], disabled: string[]) =>
  [...enabled.map((p) => [true, p] as const), ...disabled.map((p) => [false, p] as const)];

export function collect(enabled: string[], disabled: string[], resources: string[], tables: CtlTables): Status {
  const st: Status = new Map([...tables].filter(([, c]) => c.status).map(([t]) => [t, []]));
  for (const [on, path] of tagged(enabled, disabled)) {
    const pl = readSnippet(path, tables);
    for (const [table, items] of st) {
      const sec = tables.get(table)!.status!;
      for (const e of pl[table] ?? []) items.push(...sec.items(e, { path, enabled: on, resources }));
    }
  }
  return st;
}

export function toJson(st: Status, tables: CtlTables): string {
  const out: Record<string, unknown[]> = {};
  for (const [table, items] of st) {
    const sec = tables.get(table)!.status!;
    out[sec.key] = sec.json ? items.map((x) => sec.json!(x)) : items;
  }
  return JSON.stringify(out);
}

export async function terminal(st: Status, tables: CtlTables, verbose: boolean, p: Paint): Promise<string> {
  let w = "";
  for (const [table, items] of st) for (const x of items) w += await tables.get(table)!.status!.text(x, verbose, p);
  return w;
}

/** `ls`: each snippet's path, then its entries' lines. */
export function ls(enabled: string[], disabled: string[], o: Out): void {
  for (const [on, path] of tagged(enabled, disabled)) {
    o.out(`${path}:`);
    const pl = readSnippet(path, o.tables);
    for (const [table, c] of o.tables) for (const e of c.status ? pl[table] ?? [] : []) for (const l of c.status!.ls(e, on)) o.out(l);
  }
}
