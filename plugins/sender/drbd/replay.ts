// `replay --events2`: a `drbdsetup events2 --full` capture read as the live sender reads drbdsetup's
// stdout. A file: the native reader thread reads and tokenizes it beside the JS thread; stdin or no
// reader thread: streamed pieces through the native tokenizer, else the TypeScript tokenizer.
// Statistics lines take the model's fast lane, the rest the full way, as live.
import type { Events2Record, ReplaySource } from "../../../src/plugin-api.ts";
import { decodeEvents2Batch, decodeEvents2Text, Events2Lane } from "../../../src/plugin-kit/drbd.ts";

/** Whole lines. */
const cutLines = (buf: Uint8Array, len: number): number => buf.lastIndexOf(0x0a, len - 1) + 1;

export async function replayEvents2(src: ReplaySource, source: string): Promise<void> {
  const { addon } = src;
  const emit = (r: Events2Record) => src.emit(r);
  const lane = new Events2Lane();
  const batch = (b: Uint8Array, e: Uint32Array, n: Float64Array) => {
    const fast = src.events2Fast();
    const taken = decodeEvents2Batch(b, e, n, source, emit, () => {}, lane, fast?.apply);
    if (taken) fast!.taken(taken);
    src.tick();
  };
  const fd = addon?.Events2Reader ? src.takeFd() : null;
  if (fd !== null) {
    await new Promise<void>((resolve, reject) => {
      const reader = new addon!.Events2Reader!(fd);
      reader.start((b, e, n, _lost, err) => {
        batch(b, e, n);
        if (err === null) return;
        reader.close();
        if (err === "eof") resolve();
        else reject(new Error(err));
      });
    });
    return;
  }
  const tokenizer = addon?.Events2Tokenizer ? new addon.Events2Tokenizer() : null;
  const dec = new TextDecoder("utf-8");
  for (const piece of src.pieces(cutLines)) {
    if (tokenizer) batch(...tokenizer.tokenize(Buffer.from(piece.buffer, piece.byteOffset, piece.length)));
    else {
      for (const r of decodeEvents2Text(dec.decode(piece), source)) src.emit(r);
      src.tick();
    }
  }
}
