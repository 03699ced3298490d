// TypeScript tokenizer of `drbdsetup events2` lines: fallback and differential reference for
// native/src/events2_tokenizer.cc. (Filled in by the DRBD work.)
import type { Events2Record } from "../records.ts";

export function tokenizeEvents2Line(line: string, source = "drbd"): Events2Record | null {
  void line;
  void source;
  return null;
}

export function* decodeEvents2Text(text: string, source = "drbd"): Iterable<Events2Record> {
  for (const line of text.split("\n")) {
    const rec = tokenizeEvents2Line(line, source);
    if (rec) yield rec;
  }
}
