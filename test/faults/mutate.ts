// Deterministic mutations of fuzz seeds (the libFuzzer corpora's inputs) for the hostile-input
// scenario: bit flips, byte inserts and deletes, splices, truncation, repeats, random bytes.
export function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 2 ** 32);
}

export function mutate(seeds: Buffer[], rnd: () => number): Buffer {
  const pick = () => seeds[Math.floor(rnd() * seeds.length)]!;
  let b = Buffer.from(pick());
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 7)) {
      case 0: if (b.length) b[at % b.length]! ^= 1 << Math.floor(rnd() * 8); break;
      case 1: b = Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(rnd() * 256)]), b.subarray(at)]); break;
      case 2: b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(rnd() * 8))]); break;
      case 3: { const o = pick(); b = Buffer.concat([b.subarray(0, at), o.subarray(Math.floor(rnd() * o.length))]); break; }
      case 4: b = b.subarray(0, at); break;
      case 5: { const len = Math.min(16, b.length - at); if (len > 0) b = Buffer.concat([b.subarray(0, at + len), ...Array(1 + Math.floor(rnd() * 50)).fill(b.subarray(at, at + len)), b.subarray(at + len)]); break; }
      default: b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 32) }, () => Math.floor(rnd() * 256))), b.subarray(at)]);
    }
  }
  return b;
}
