// Strings the DRBD model keeps (states, names, paths) are copied out of their record and shared. A
// value sliced from a decoded line keeps that whole line alive: one line per object and field was
// most of the model's memory per resource.
const table = new Map<string, string>();
const MAX = 1 << 16;

/** `v` as a string of its own (shared between equal values while the table has room). */
export function own(v: string): string {
  const s = table.get(v);
  if (s !== undefined) return s;
  const copy = Buffer.from(v, "utf8").toString("utf8");
  if (table.size < MAX) table.set(copy, copy);
  return copy;
}

/** Known values (string literals, not slices) answer own() as themselves. */
export function seed(values: readonly string[]): void {
  for (const v of values) table.set(v, v);
}
