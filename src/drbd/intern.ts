// Strings the DRBD model keeps (states, names, paths) are copied out of their record. A value sliced
// from a decoded line keeps that whole line alive: one line per object and field was most of the
// model's memory per resource. Known values (states) are shared constants.
const table = new Map<string, string>();

/** `v` as a string of its own: the known constant, or a copy. */
export function own(v: string): string {
  return table.get(v) ?? Buffer.from(v, "utf8").toString("utf8");
}

/** Known values (string literals, not slices) answer own() as themselves. */
export function seed(values: readonly string[]): void {
  for (const v of values) table.set(v, v);
}
