// Loads the C++ addon; when it cannot load, the daemon runs on the TypeScript fallbacks and says so.
export interface BatchCallback {
  (bytes: Buffer, ends: Uint32Array, nums: Float64Array, lost: number, error: string | null): void;
}

export interface NativeReader {
  start(cb: BatchCallback): void;
  close(): void;
  unref(): void;
  ref(): void;
}

export interface NativeAddon {
  capabilities(): { abi: string; napi: number; features: string[] };
  pipe(): [number, number];
  LineReader: new (fd: number, maxLine?: number) => NativeReader;
  /**
   * 0 or an errno. With passFd (>= 0) the datagram carries only the fd (journald's large-entry
   * path). nonblock: EAGAIN instead of blocking when the peer's queue is full.
   */
  unixDgramSend(path: string, data: Buffer | string, passFd?: number, nonblock?: boolean): number;
  /** A sealed memfd holding data: the fd, or -errno. */
  memfdWrite(name: string, data: Buffer): number;
  closeFd(fd: number): void;
  /** /dev/kmsg reader thread (native/src/kmsg_reader.cc); batches as in native/src/kmsg_record.h. */
  KmsgReader: new (opts: { path?: string; seek?: "start" | "end" | "data"; afterSeq?: number; slowMs?: number }) => NativeReader;
  /** Every /dev/kmsg record of a recorded text, packed like a KmsgReader batch. */
  kmsgDecode(text: Buffer | string): { bytes: Buffer; ends: Uint32Array; nums: Float64Array };
  /** CLOCK_REALTIME, CLOCK_MONOTONIC and CLOCK_BOOTTIME in µs, read back to back. */
  kmsgClock(): { realtime_us: number; monotonic_us: number; boottime_us: number };
  /** NETLINK_KOBJECT_UEVENT reader (native/src/uevent_reader.cc); groups: 1 kernel, 2 udev, 3 both;
   * slowMs delays each receive (tests of socket overflow); nums stride 4 [kind, pid, uid, size]:
   * a block device's size in bytes read from sysRoot (default /sys) on the reader thread, or -1. */
  UeventReader?: new (groups?: number, rcvbuf?: number, slowMs?: number, sysRoot?: string) => NativeReader & { dropped(): number };
  /** The pure uevent parser over many messages: kinds 1 kernel format, 2 udev format, 3 bad (record = reason). */
  ueventParse?(bytes: Uint8Array, ends: Uint32Array): { bytes: Buffer; ends: Uint32Array; kinds: Uint8Array };
  /** The same with each record laid out as it is parsed (as ueventLayout would, raw text in bytes). */
  ueventParse?(bytes: Uint8Array, ends: Uint32Array, layout: true): { bytes: Buffer; ends: Uint32Array; kinds: Uint8Array; layout: UeventLayoutArrays };
  /** Lays out packed records of kinds 1 and 2 and turns them into raw text in place (src/uevent/layout.ts). */
  ueventLayout?(bytes: Uint8Array, ends: Uint32Array, kinds: Uint8Array): UeventLayoutArrays;
  /** The property names and values behind ueventLayout's codes (code i = [i - 1]). */
  ueventNames?(): { keys: string[]; values: string[] };
  /** drbdsetup events2 lines tokenised on a reader thread (src/drbd/events2.ts decodeEvents2Batch). */
  Events2Reader?: new (fd: number, maxLine?: number) => NativeReader;
  /** The same tokenizer over a whole buffer: [bytes, ends, nums]. */
  events2Tokenize?(buf: Buffer, maxLine?: number): [Buffer, Uint32Array, Float64Array];
  /** events2Tokenize over pieces of one stream: interned ids (the fast lane's) stay valid across calls.
   * The arrays are lent: the next tokenize() detaches them (they read as empty) and reuses the memory. */
  Events2Tokenizer?: new (maxLine?: number) => { tokenize(buf: Buffer): [Uint8Array, Uint32Array, Float64Array] };
  /** sd-journal reader (native/src/journal_reader.cc), present when the addon was built with libsystemd.
   * Per entry five strings (cursor, SYSLOG_IDENTIFIER, _TRANSPORT, MESSAGE, _COMM) and three numbers
   * (PRIORITY, pid, realtime µs). */
  /** "" when libsystemd.so.0 loads (the addon opens it at the first call, not at start-up), else why not. */
  journalLibrary?: () => string;
  JournalReader?: new (opts: { daemons: string[]; namespace?: string; directory?: string; cursor?: string; sinceUs?: number; pollMs?: number; rootOnly?: boolean }) => NativeReader;
  // Modules added by later work (kmsg, uevent, events2, journal) extend this interface.
  [name: string]: unknown;
}

export interface AddonStatus {
  loaded: boolean;
  features: string[];
  error?: string;
}

let cached: { addon: NativeAddon | null; status: AddonStatus } | undefined;

function load(): { addon: NativeAddon | null; status: AddonStatus } {
  if (process.env.STOREVENTD_NO_ADDON === "1") {
    return { addon: null, status: { loaded: false, features: [], error: "disabled by STOREVENTD_NO_ADDON=1" } };
  }
  try {
    // A literal path so `bun build --compile` embeds the addon.
    const addon = require("../build/Release/storeventd.node") as NativeAddon;
    return { addon, status: { loaded: true, features: addon.capabilities().features } };
  } catch (e) {
    let msg = e instanceof Error ? e.message : String(e);
    if (/operation not permitted|failed to map|mmap|noexec/i.test(msg) || /tmp/i.test(msg)) {
      msg += " (the embedded addon is extracted into BUN_TMPDIR, else TMPDIR, else /tmp; point BUN_TMPDIR at an exec-capable directory)";
    }
    return { addon: null, status: { loaded: false, features: [], error: msg } };
  }
}

/** ueventLayout's output (native/src/uevent_reader.cc LayoutMany). */
export interface UeventLayoutArrays {
  props: Uint32Array;
  offs: Uint32Array;
  heads: Uint32Array;
  keys: Uint8Array;
  values: Uint8Array;
  actions: Uint8Array;
}

export function nativeAddon(): NativeAddon | null {
  cached ??= load();
  return cached.addon;
}

export function addonStatus(): AddonStatus {
  cached ??= load();
  return cached.status;
}
