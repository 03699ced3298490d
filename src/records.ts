// Raw records as senders hand them to parsers, before any classification.

/** One /dev/kmsg record (see Documentation/ABI/testing/dev-kmsg). */
export interface KmsgRecord {
  kind: "kmsg";
  source: string;
  priority: number; // 0..7
  facility: number; // 0 = kernel
  seq: number;
  ts_us: number; // monotonic µs since boot, as the kernel stamps it
  flags: string; // "-" or "c" ("+" in old kernels)
  msg: string; // \xNN escapes undone only for printable UTF-8, else kept as the kernel wrote them
  props: Record<string, string>; // continuation lines: SUBSYSTEM=, DEVICE=
  /** Wall-clock µs of ts_us, filled by the sender (boot time + ts) or by replay. */
  time_us?: number;
  raw: string;
}

/** One uevent (kernel netlink group 1 or the udev group 2). */
export interface UeventRecord {
  kind: "uevent";
  source: string;
  action: string;
  devpath: string;
  props: Record<string, string>;
  origin: "kernel" | "udev";
  time_us?: number;
  raw: string;
}

/** One `drbdsetup events2` line: `<verb> <object> key:value ...`. */
export interface Events2Record {
  kind: "events2";
  source: string;
  verb: string; // exists | create | change | destroy | call | response
  object: string; // resource | connection | device | peer-device | path | helper | -
  fields: Record<string, string>;
  time_us?: number;
  raw: string;
}

/** One journal entry of a userspace storage daemon (multipathd, dmeventd, mdadm, smartd, iscsid). */
export interface JournalRecord {
  kind: "journal";
  source: string;
  daemon: string; // SYSLOG_IDENTIFIER, else _COMM
  priority: number; // PRIORITY 0..7 (6 when missing)
  pid: number; // _PID, else SYSLOG_PID; 0 when unknown
  transport: string; // _TRANSPORT (syslog, journal, stdout; never kernel: the kmsg sender owns those)
  cursor: string; // __CURSOR ("" for captures without one)
  msg: string; // MESSAGE without its trailing newline
  /** The entry's own __REALTIME_TIMESTAMP, µs since the epoch. */
  time_us?: number;
  raw: string; // "daemon[pid]: msg"
}

export type RawRecord = KmsgRecord | UeventRecord | Events2Record | JournalRecord;
export type RecordKind = RawRecord["kind"];
