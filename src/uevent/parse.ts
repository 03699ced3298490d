// TypeScript uevent parser: fallback and differential reference for native/src/uevent_*.cc.
// (Filled in by the udev work.)
import type { UeventRecord } from "../records.ts";

/**
 * Decodes recorded uevents, as `udevadm monitor --kernel --property` prints them or as raw
 * NUL-separated netlink captures. Used by `storeventd replay --uevent`.
 */
export function* decodeUeventFile(data: Uint8Array, source = "udev"): Iterable<UeventRecord> {
  void data;
  void source;
}
