// Option documentation read from a valibot object schema: the v.description() on each key is the
// option's only doc. Used by the man page (packaging/gen-man.ts) and docs/ (docs/gen-docs.ts).
import * as v from "valibot";
import { Duration } from "./schema.ts";

type Schema = v.GenericSchema & { type: string; entries?: Record<string, Schema>; wrapped?: Schema; options?: Schema[]; item?: Schema; pipe?: Schema[] };

export interface OptionDoc {
  key: string;
  /** A short type name: string, integer, duration, "a" | "b", table, array of ... */
  type: string;
  /** JSON of the default, or null when the option has none (required, or optional without one). */
  default: string | null;
  /** The description, "" when the schema has none. */
  doc: string;
  /** The key must be given (its schema is not optional). */
  required: boolean;
}

// The first description found on the schema, its pipe, or the schema it wraps.
function describe(s: Schema | undefined): string {
  for (let cur = s; cur; cur = cur.wrapped) {
    const d = v.getDescription(cur as never);
    if (d) return d;
  }
  return "";
}

function typeName(s: Schema | undefined): string {
  if (!s) return "any";
  if ((s as unknown) === Duration) return "duration";
  switch (s.type) {
    case "optional": case "nullish": case "nullable": case "exact_optional": return typeName(s.wrapped);
    case "picklist": return (s.options as unknown as string[]).map((o) => JSON.stringify(o)).join(" | ");
    case "union": {
      const [one, many] = s.options ?? [];
      // oneOrMany(x): a value or an array of them
      if (s.options?.length === 2 && many?.type === "array" && typeName(many.item) === typeName(one)) return `${typeName(one)}, or an array`;
      return (s.options ?? []).map(typeName).join(" | ");
    }
    case "literal": return JSON.stringify((s as unknown as { literal: unknown }).literal);
    case "array": return `array of ${typeName(s.item)}`;
    case "object": case "strict_object": case "loose_object": return "table";
    case "number": return s.pipe?.some((p) => p.type === "integer") ? "integer" : "number";
    default: return s.type;
  }
}

const OPTIONAL = new Set(["optional", "nullish", "exact_optional"]);

// (A v.pipe() carries the type of its first schema, so a described optional key is "optional" too.)
function defaultOf(s: Schema): string | null {
  if (!OPTIONAL.has(s.type)) return null;
  const d = v.getDefault(s as never);
  return d === undefined ? null : JSON.stringify(d);
}

/** One entry per key of an object schema, in the schema's order. */
export function optionDocs(schema: v.GenericSchema): OptionDoc[] {
  const entries = (schema as Schema).entries ?? {};
  return Object.keys(entries).map((key) => {
    const s = entries[key]!;
    return { key, type: typeName(s), default: defaultOf(s), doc: describe(s), required: !OPTIONAL.has(s.type) };
  });
}
