// `replay --uevent`: recorded uevents -> the records the parsers get plus the udev catalog events
// the live udev sender would emit (same filter, SEQNUM de-duplication and classifier; the
// inventory is built from the uevents alone, never from this host's sysfs). Replay streams the
// input in pieces of whole records (cutUevents); one classifier serves them all (replayDecoder).
import type { EventDraft, NativeAddon, UeventRecord } from "../../../src/plugin-api.ts";
import { decodeUeventFile, nativeLayouter } from "../../../src/plugin-kit/readers.ts";
import { replayClassifier, type ClassifyOptions } from "./classify.ts";

type ReplayOptions = ClassifyOptions & { source?: string; onBad?: (reason: string) => void };

/** The decode of one piece of whole records after another, with the classifier's state carried
 * from piece to piece. */
export function replayDecoder(addon: NativeAddon | null, opts: ReplayOptions = {}): (data: Uint8Array) => Iterable<{ rec: UeventRecord; drafts: EventDraft[] }> {
  const c = replayClassifier(opts);
  // Uevents of other subsystems are dropped before their properties are unpacked.
  const keep = (subsystem: string | undefined) => c.wantsSubsystem(subsystem);
  const parse = addon?.ueventParse?.bind(addon);
  const layouter = parse && nativeLayouter(addon);
  return function* (data) {
    for (const rec of decodeUeventFile(data, opts.source ?? "udev", opts.onBad, parse, keep, layouter)) {
      const h = c.handle(rec);
      if (h.bad) opts.onBad?.(h.bad);
      if (h.status === "new") yield { rec, drafts: h.drafts };
    }
  };
}

/** A whole capture in memory (tests). */
export function replayUevents(data: Uint8Array, addon: NativeAddon | null, opts: ReplayOptions = {}): Iterable<{ rec: UeventRecord; drafts: EventDraft[] }> {
  return replayDecoder(addon, opts)(data);
}
