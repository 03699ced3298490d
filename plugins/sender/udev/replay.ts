// `replay --uevent`: recorded uevents -> the records the parsers get plus the udev catalog events
// the live udev sender would emit (same filter, SEQNUM de-duplication and classifier; the
// inventory is built from the uevents alone, never from this host's sysfs).
import type { EventDraft, NativeAddon, UeventRecord } from "../../../src/plugin-api.ts";
import { decodeUeventFile, nativeLayouter } from "../../../src/plugin-kit/readers.ts";
import { replayClassifier, type ClassifyOptions } from "./classify.ts";

export function* replayUevents(
  data: Uint8Array, addon: NativeAddon | null, opts: ClassifyOptions & { source?: string; onBad?: (reason: string) => void } = {},
): Iterable<{ rec: UeventRecord; drafts: EventDraft[] }> {
  const c = replayClassifier(opts);
  // Uevents of other subsystems are dropped before their properties are unpacked.
  const keep = (subsystem: string | undefined) => c.wantsSubsystem(subsystem);
  const parse = addon?.ueventParse?.bind(addon);
  for (const rec of decodeUeventFile(data, opts.source ?? "udev", opts.onBad, parse, keep, parse && nativeLayouter(addon))) {
    const h = c.handle(rec);
    if (h.bad) opts.onBad?.(h.bad);
    if (h.status === "new") yield { rec, drafts: h.drafts };
  }
}
