// The udev sender: reads kernel uevents from a NETLINK_KOBJECT_UEVENT socket (native reader
// thread), hands them to the parsers as UeventRecords (the dm parser takes DM_ACTION= path events
// from there), keeps the device inventory current, and emits the udev catalog itself
// (classify.ts), since no parser owns DEVICE_*, SCSI_UNIT_ATTENTION or NVMe AENs.
import * as v from "valibot";
import { definePlugin, type SenderContext, type UeventRecord } from "../../../src/plugin-api.ts";
import { DeviceInventory, INVENTORY_SERVICE } from "../../../src/plugin-kit/devices.ts";
import { UeventClassifier, DEFAULT_SUBSYSTEMS } from "./classify.ts";
import { replayDecoder } from "./replay.ts";
import { cutUevents, isLaid, laidSubsystem, nativeLayouter, rawOfPacked, unpackLaid, unpackUevent, type Layouter } from "../../../src/plugin-kit/readers.ts";
import { Duration } from "../../../src/plugin-kit/duration.ts";
import sample from "./sample.toml" with { type: "text" };
import { EVENTS } from "./events.ts";

export const schema = v.strictObject({
  groups: v.pipe(
    v.optional(v.pipe(v.array(v.picklist(["kernel", "udev"])), v.minLength(1)), ["kernel", "udev"]),
    v.description('Netlink groups: "kernel" (uevents from the kernel) and "udev" (udevd\'s copies with by-id links and ID_* properties); one uevent seen in both is handled once.'),
  ),
  subsystems: v.pipe(
    v.optional(v.array(v.string()), [...DEFAULT_SUBSYSTEMS]),
    v.description("Kernel SUBSYSTEM values to handle (block devices, SCSI devices for unit attentions, NVMe controllers for async events); others are ignored."),
  ),
  receive_buffer: v.pipe(
    v.optional(v.pipe(v.number(), v.integer(), v.minValue(65536), v.maxValue(1 << 30)), 16 << 20),
    v.description("Socket receive buffer in bytes (SO_RCVBUFFORCE); when it overflows (ENOBUFS) the sender rescans sysfs."),
  ),
  dedup_seqnums: v.pipe(
    v.optional(v.pipe(v.number(), v.integer(), v.minValue(16)), 4096),
    v.description("How many recent SEQNUMs are remembered to drop the second copy of a uevent."),
  ),
  poll_interval: v.pipe(v.optional(Duration, "5s"), v.description("Without the native addon there is no netlink socket: rescan sysfs this often instead.")),
  sys_root: v.pipe(v.optional(v.string(), "/sys"), v.description("Root of sysfs.")),
  dev_root: v.pipe(v.optional(v.string(), "/dev"), v.description("Root of the device nodes (by-id links).")),
  mountinfo: v.pipe(v.optional(v.string(), "/proc/self/mountinfo"), v.description("The mount table.")),
});
export type UdevConfig = v.InferOutput<typeof schema>;

// Record kinds of the native UeventReader (native/src/uevent_reader.cc).
const KERNEL = 1, UDEV = 2, BAD = 3, UNTRUSTED = 4, ENOBUFS = 5;

/** The inventory the core handed out as ctx.devices when it matches our roots, else our own. */
function pickInventory(config: UdevConfig, ctx: SenderContext): DeviceInventory {
  const d = ctx.devices;
  if (d instanceof DeviceInventory && d.sysRoot === config.sys_root && d.devRoot === config.dev_root &&
    d.mountinfoPath === config.mountinfo) return d;
  return new DeviceInventory({ sysRoot: config.sys_root, devRoot: config.dev_root, mountinfo: config.mountinfo });
}

/** What polling sysfs cannot see (status `lost` in poll mode): events that exist only as uevents. */
export const POLL_LOSES = [
  "SCSI_UNIT_ATTENTION (SDEV_UA= change uevents)",
  "MEDIA_CHANGED (DISK_MEDIA_CHANGE= / SDEV_MEDIA_CHANGE= change uevents)",
  "NVME_CRITICAL_WARNING and NVME_ASYNC_EVENT (NVME_AEN= change uevents)",
  "dm multipath path uevents (DM_ACTION=PATH_FAILED / PATH_REINSTATED) for the dm parser",
  "DEVICE_CHANGED for a change that leaves sysfs as it was, and a device added and removed within one poll interval",
  "timing: DEVICE_ADDED / DEVICE_REMOVED / DEVICE_RESIZED come up to poll_interval late, stamped with the scan's time",
];

export class UdevSender {
  readonly inventory: DeviceInventory;
  readonly classifier: UeventClassifier;
  private reader: { close(): void; dropped(): number } | undefined;
  private droppedSeen = 0;
  private mode: "netlink" | "poll" = "netlink";
  private pollWhy = "";
  /** The addon's layout of a batch (src/uevent/layout.ts): one string per uevent, no key search. */
  private layouter: Layouter | undefined;
  private kinds = new Uint8Array(256);

  constructor(private config: UdevConfig, private ctx: SenderContext) {
    this.inventory = pickInventory(config, ctx);
    this.classifier = new UeventClassifier(this.inventory, { subsystems: config.subsystems, dedupSeqnums: config.dedup_seqnums });
    this.layouter = nativeLayouter(ctx.native);
  }

  /** One uevent (from the socket, or a test): dedup, records to parsers, inventory, catalog events.
   * sizeBytes: the block device's size the reader thread read when the uevent arrived. */
  handle(rec: UeventRecord, sizeBytes?: number): void {
    const ctx = this.ctx;
    ctx.count("received");
    const h = this.classifier.handle(rec, sizeBytes);
    if (h.status === "duplicate") ctx.count("duplicates");
    if (h.status !== "new") return;
    ctx.emit(rec);
    for (const d of h.drafts) ctx.emitEvent(d);
    if (h.bad) {
      ctx.count("bad");
      ctx.log.once("bad-uevent-value", `${h.bad}: ${rec.raw.slice(0, 200)}`);
    }
  }

  /** Lost uevents (ENOBUFS, full queue, polling): rescan sysfs and report what changed. */
  resync(why: string): void {
    this.ctx.count("resyncs");
    if (why) this.ctx.log.info(`rescanning ${this.config.sys_root}/class/block: ${why}`);
    for (const d of this.classifier.resync(this.inventory.scan())) this.ctx.emitEvent(d);
  }

  onBatch(bytes: Buffer, ends: Uint32Array, nums: Float64Array, error: string | null): void {
    const ctx = this.ctx;
    const lay = this.layouter;
    if (lay && this.kinds.length < ends.length) this.kinds = new Uint8Array(ends.length * 2);
    const kinds = this.kinds;
    if (lay) for (let i = 0; i < ends.length; i++) kinds[i] = nums[i * 4]!;
    const l = lay?.layout(bytes, ends, kinds);
    let prev = 0;
    let overflow = false;
    for (let i = 0; i < ends.length; i++) {
      const kind = nums[i * 4];
      const from = prev;
      prev = ends[i]!;
      if (l && isLaid(l, i)) {
        // Laid out (now raw ASCII text): other subsystems are dropped before any string is made.
        if (!this.classifier.wantsSubsystem(laidSubsystem(bytes, from, prev, l, i, lay!.names))) {
          ctx.count("received");
          continue;
        }
        const size = nums[i * 4 + 3]!;
        const rec = unpackLaid(bytes.toString("latin1", from, prev), l, i, lay!.names, kind === UDEV ? "udev" : "kernel", ctx.instance);
        this.handle(rec, size >= 0 ? size : undefined);
        continue;
      }
      const text = bytes.toString("utf8", from, prev);
      if (kind === KERNEL || kind === UDEV) {
        // Other subsystems (usb, net, ...) are counted and dropped before their properties are unpacked.
        if (!this.classifier.wantsPacked(text)) {
          ctx.count("received");
          continue;
        }
        const size = nums[i * 4 + 3]!;
        const rec = unpackUevent(text, kind === UDEV ? "udev" : "kernel", ctx.instance, rawOfPacked(bytes, from, prev));
        this.handle(rec, size >= 0 ? size : undefined);
      } else if (kind === BAD) {
        ctx.count("bad");
        ctx.log.once("bad-uevent", `bad uevent skipped: ${text}`);
      } else if (kind === UNTRUSTED) {
        ctx.count("dropped_untrusted");
        ctx.log.once("untrusted-uevent", `uevent from an untrusted sender dropped (${text})`);
      } else if (kind === ENOBUFS) {
        ctx.count("enobufs");
        overflow = true;
      }
    }
    const dropped = this.reader?.dropped() ?? 0;
    if (dropped > this.droppedSeen) {
      ctx.count("dropped_queue", dropped - this.droppedSeen);
      this.droppedSeen = dropped;
      overflow = true;
    }
    if (overflow) this.resync("uevents were lost (socket buffer overflow or full queue)");
    if (error) ctx.log.error(`uevent reader stopped: ${error}`);
  }

  async run(): Promise<void> {
    const ctx = this.ctx;
    const stopped = new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    let poll: ReturnType<typeof setInterval> | undefined;
    const fallBack = (why: string) => {
      if (poll || ctx.signal.aborted) return;
      this.mode = "poll";
      this.pollWhy = `no netlink uevents: ${why} (Bun has no AF_NETLINK socket; only the addon reads uevents)`;
      this.close();
      ctx.log.warn(`no netlink uevents (${why}); polling sysfs every ${this.config.poll_interval}ms`);
      poll = setInterval(() => this.resync(""), this.config.poll_interval);
    };
    // Open the socket before the scan, so nothing between the two is missed. The core's inventory
    // was scanned at start: that rescan (for what changed before the socket opened) runs after
    // READY, the lookups answer from the start scan meanwhile (~2 ms of every start).
    const failed = this.openReader((error) => fallBack(error));
    const rescan = this.inventory.isScanned;
    if (!rescan) this.inventory.scan();
    ctx.services.provide(INVENTORY_SERVICE, this.inventory);
    ctx.ready();
    if (failed) fallBack(failed);
    if (rescan) {
      await new Promise((r) => setImmediate(r));
      if (!ctx.signal.aborted) this.inventory.scan();
    }
    await stopped;
    if (poll) clearInterval(poll);
    this.close();
  }

  /** Starts the native reader; returns why it cannot, or "" (onFail: it stopped later). */
  private openReader(onFail: (error: string) => void): string {
    const Reader = this.ctx.native?.UeventReader;
    if (!Reader) return "the native addon is not loaded";
    const mask = (this.config.groups.includes("kernel") ? 1 : 0) | (this.config.groups.includes("udev") ? 2 : 0);
    try {
      const r = new Reader(mask, this.config.receive_buffer, 0, this.config.sys_root);
      r.start((bytes, ends, nums, _lost, error) => {
        this.onBatch(bytes, ends, nums, error);
        if (error) onFail(error);
      });
      this.reader = r;
      return "";
    } catch (e) {
      return (e as Error).message;
    }
  }

  close(): void {
    this.reader?.close();
    this.reader = undefined;
  }

  status(): Record<string, unknown> {
    const st: Record<string, unknown> = {
      mode: this.mode, groups: this.config.groups, subsystems: this.config.subsystems, devices: this.inventory.list().length,
    };
    if (this.mode === "poll") {
      st.why = this.pollWhy;
      st.lost = POLL_LOSES;
    }
    return st;
  }
}

export default definePlugin({
  kind: "sender",
  name: "udev",
  embeddedDefault: { order: 20 },
  replay: {
    input: "uevent", cut: cutUevents, decoder: (addon) => replayDecoder(addon),
    help: { order: 20, text: `uevents as "udevadm monitor --kernel --property" prints them, or raw\nNUL-separated netlink captures` },
  },
  emits: EVENTS,
  description: "Kernel uevents (netlink): block device add/remove/change/resize/media, SCSI unit attentions, NVMe async events; the live device inventory.",
  schema,
  sample,
  create(config, ctx) {
    const s = new UdevSender(config, ctx);
    return { run: () => s.run(), close: () => s.close(), status: () => s.status() };
  },
});
