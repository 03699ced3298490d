// Cutting a recorded stream into pieces of whole records, so that it can be read in constant
// memory: replay reads 1 MiB at a time and hands on only what ends where a record may end.

/** Where a piece may end: the length of the prefix of buf[0, len) that holds whole records. */
export type Cut = (buf: Uint8Array, len: number) => number;

/** Whole lines. */
export const cutLines: Cut = (buf, len) => buf.lastIndexOf(0x0a, len - 1) + 1;

/** Whole /dev/kmsg records: a cut before a line that starts with a space would split a record
 * from its " KEY=value" continuation lines. */
export const cutKmsg: Cut = (buf, len) => {
  let end = buf.lastIndexOf(0x0a, len - 1) + 1;
  // The byte after the cut must have been read, and not be a space.
  while (end > 0 && (end >= len || buf[end] === 0x20)) end = end >= 2 ? buf.lastIndexOf(0x0a, end - 2) + 1 : 0;
  return end;
};

/** Whole recorded uevents: `udevadm monitor --property` text ends a record with a blank line; a
 * raw netlink capture starts each record right after a NUL (and any newlines) with "action@/" or
 * a libudev header, as splitRawCapture() reads them. */
export const cutUevents: Cut = (buf, len) => {
  const data = buf.subarray(0, len);
  if (data.indexOf(0) < 0) {
    const blank = data.lastIndexOf(0x0a, len - 1);
    for (let i = blank; i > 0; i = data.lastIndexOf(0x0a, i - 1)) if (data[i - 1] === 0x0a) return i + 1;
    return 0;
  }
  for (let nul = data.lastIndexOf(0, len - 1); nul >= 0; nul = nul > 0 ? data.lastIndexOf(0, nul - 1) : -1) {
    let next = nul + 1;
    while (next < len && (data[next] === 0x0a || data[next] === 0)) next++;
    // The header test reads up to 34 bytes past `next`: a cut needs them in the buffer.
    if (next + 34 <= len && startsRecord(data, next)) return next;
  }
  return 0;
};

/** "action@/" (lower-case action, at most 32 letters) or the "libudev\0" header magic at pos. */
function startsRecord(data: Uint8Array, pos: number): boolean {
  const LIBUDEV = "libudev\0";
  let lib = true;
  for (let i = 0; i < LIBUDEV.length && lib; i++) lib = data[pos + i] === LIBUDEV.charCodeAt(i);
  if (lib) return true;
  let i = pos;
  while (i - pos <= 32 && data[i]! >= 0x61 && data[i]! <= 0x7a) i++;
  return i > pos && data[i] === 0x40 && data[i + 1] === 0x2f;
}

/** A piece in slices of about `size` bytes, cut by `cut` (the last one takes the rest). Text decoded
 * per slice keeps record strings small: a record's fields are slices of its decoded text, and a
 * parser holding one record of a multi-record report would otherwise pin a whole piece. */
export function* slices(piece: Uint8Array, size: number, cut: Cut): Generator<Uint8Array> {
  let start = 0;
  while (piece.length - start > size) {
    const rest = piece.subarray(start);
    const end = cut(rest, size);
    if (end <= 0) break;
    yield rest.subarray(0, end);
    start += end;
  }
  if (start < piece.length) yield piece.subarray(start);
}
