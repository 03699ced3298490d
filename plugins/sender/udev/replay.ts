// `replay --uevent`: recorded uevents -> the records the parsers get plus the udev catalog events
// the live udev sender would emit (same filter, SEQNUM de-duplication and classifier; the
// inventory is built from the uevents alone, never from this host's sysfs). The CLI streams the
// input (streamUevents): a capture of any size is read in pieces of whole records.
import type { EventDraft, NativeAddon, ReplaySource, UeventRecord } from "../../../src/plugin-api.ts";
import { cutUevents, decodeUeventFile, nativeLayouter } from "../../../src/plugin-kit/readers.ts";
import { replayClassifier, type ClassifyOptions } from "./classify.ts";

type ReplayOptions = ClassifyOptions & { source?: string; onBad?: (reason: string) => void };

/** The uevents of one piece of whole records, classified by `c` (which lives across pieces). */
function* decodePiece(data: Uint8Array, addon: NativeAddon | null, c: ReturnType<typeof replayClassifier>, opts: ReplayOptions): Iterable<{ rec: UeventRecord; drafts: EventDraft[] }> {
  // Uevents of other subsystems are dropped before their properties are unpacked.
  const keep = (subsystem: string | undefined) => c.wantsSubsystem(subsystem);
  const parse = addon?.ueventParse?.bind(addon);
  for (const rec of decodeUeventFile(data, opts.source ?? "udev", opts.onBad, parse, keep, parse && nativeLayouter(addon))) {
    const h = c.handle(rec);
    if (h.bad) opts.onBad?.(h.bad);
    if (h.status === "new") yield { rec, drafts: h.drafts };
  }
}

/** A whole capture in memory (tests). */
export function replayUevents(data: Uint8Array, addon: NativeAddon | null, opts: ReplayOptions = {}): Iterable<{ rec: UeventRecord; drafts: EventDraft[] }> {
  return decodePiece(data, addon, replayClassifier(opts), opts);
}

/** The CLI's reader: the input in pieces, one classifier for all of them, garbage collected as
 * the kmsg replay does (JSC lets a long synchronous loop's garbage reach 100+ MiB first). */
export async function streamUevents(src: ReplaySource): Promise<void> {
  const c = replayClassifier({});
  let records = 0;
  let pieces = 0;
  for (const piece of src.pieces(cutUevents)) {
    for (const { rec, drafts } of decodePiece(piece, src.addon, c, {})) {
      src.emit(rec);
      for (const d of drafts) src.emitDraft(d, rec);
      if ((++records & 4095) === 0) Bun.gc(false);
    }
    src.tick();
    if (++pieces % 4 === 0) Bun.gc(true);
  }
}
