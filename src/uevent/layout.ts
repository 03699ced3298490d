// Unpacking a batch of uevents the addon has laid out (native/src/uevent_layout.h): per record one
// string, its raw text, with keys and values cut out of it at the addon's offsets. Common property
// names and ACTION/SUBSYSTEM/DEVTYPE values come as codes for strings held here, so no key string is
// made per property and "block" is not hashed anew per uevent. Gives exactly what unpackUevent()
// gives for the same packed record (src/uevent/layout.test.ts); records the addon did not lay out
// (not plain ASCII) still go through unpackUevent().
import type { NativeAddon, UeventLayoutArrays } from "../native.ts";
import type { UeventRecord } from "../records.ts";

/** The addon's name tables by code (index 0 unused). */
export interface LayoutNames {
  keys: string[];
  values: string[];
}

export interface Layouter {
  layout(bytes: Uint8Array, ends: Uint32Array, kinds: Uint8Array): UeventLayoutArrays;
  /** ueventParse with the layout made in the same pass (replay). */
  parseLaid?(bytes: Uint8Array, ends: Uint32Array): { bytes: Buffer; ends: Uint32Array; kinds: Uint8Array; layout: UeventLayoutArrays };
  names: LayoutNames;
}

/** The same text as a property-key atom: an object key is one, so storing under it finds it at once. */
const atom = (s: string): string => Object.keys({ [s]: 0 })[0]!;

const SUBSYSTEM_CODE = 3; // kUeventKeys: ACTION, DEVPATH, SUBSYSTEM, ...

/** The addon's layout function with its name tables, or undefined when the addon lacks it. */
export function nativeLayouter(addon: NativeAddon | null | undefined): Layouter | undefined {
  if (!addon?.ueventLayout || !addon.ueventNames) return undefined;
  const t = addon.ueventNames();
  if (t.keys[SUBSYSTEM_CODE - 1] !== "SUBSYSTEM") return undefined; // an addon of another layout
  const names = { keys: ["", ...t.keys.map(atom)], values: ["", ...t.values.map(atom)] };
  const parse = addon.ueventParse?.bind(addon);
  return { layout: addon.ueventLayout.bind(addon), parseLaid: parse && ((bytes, ends) => parse(bytes, ends, true)), names };
}

/** True when the addon laid out record i (it is then raw text in the batch bytes). */
export function isLaid(l: UeventLayoutArrays, i: number): boolean {
  return l.actions[i] !== 0;
}

/** The last SUBSYSTEM value of laid-out record i (bytes[from, to)), as packedSubsystem() reads it:
 * lets a consumer drop other subsystems before any string is made. */
export function laidSubsystem(bytes: Buffer, from: number, to: number, l: UeventLayoutArrays, i: number,
  names: LayoutNames): string | undefined {
  const first = l.props[i]!;
  const last = l.props[i + 1]!;
  for (let j = last - 1; j >= first; j--) {
    if (l.keys[j] !== SUBSYSTEM_CODE) continue;
    const v = l.values[j]!;
    if (v) return names.values[v];
    return bytes.toString("latin1", from + l.offs[2 * j + 1]! + 1, j + 1 < last ? from + l.offs[2 * j + 2]! - 1 : to);
  }
  return undefined;
}

/** Laid-out record i as a UeventRecord; raw is its text (the batch bytes of the record, ASCII). */
export function unpackLaid(raw: string, l: UeventLayoutArrays, i: number, names: LayoutNames,
  origin: "kernel" | "udev", source: string): UeventRecord {
  const a = l.heads[2 * i]!;
  const code = l.actions[i]! - 1;
  const action = code > 0 ? names.values[code]! : raw.slice(0, a);
  const devpath = raw.slice(a + 1, l.heads[2 * i + 1]);
  const props: Record<string, string> = {};
  const last = l.props[i + 1]!;
  for (let j = l.props[i]!; j < last; j++) {
    const eq = l.offs[2 * j + 1]!;
    const k = l.keys[j]!;
    const v = l.values[j]!;
    const key = k ? names.keys[k]! : raw.slice(l.offs[2 * j]!, eq);
    props[key] = v ? names.values[v]! : raw.slice(eq + 1, j + 1 < last ? l.offs[2 * j + 2]! - 1 : raw.length);
  }
  return { kind: "uevent", source, action, devpath, props, origin, raw };
}
