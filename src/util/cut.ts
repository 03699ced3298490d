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
