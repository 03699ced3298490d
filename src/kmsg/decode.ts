// TypeScript decoder of /dev/kmsg records: the fallback when the addon is missing and the
// differential reference for native/src/kmsg_*.cc. (Filled in by the kmsg work.)
import type { KmsgRecord } from "../records.ts";

/**
 * Decodes a recorded kernel log: raw /dev/kmsg records (`6,1234,5678,-;msg` plus ` KEY=value`
 * continuation lines) and dmesg/journal-style text lines. Used by `storeventd replay --kmsg`.
 */
export function* decodeKmsgText(text: string, source = "kmsg"): Iterable<KmsgRecord> {
  void text;
  void source;
}
