// "did you mean" hints for unknown keys and plugin names.
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

export function didYouMean(word: string, choices: Iterable<string>): string {
  let best = "";
  let bestD = Infinity;
  for (const c of choices) {
    const dist = distance(word.toLowerCase().replace(/-/g, "_"), c.toLowerCase().replace(/-/g, "_"));
    if (dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  return best && bestD <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean "${best}"?)` : "";
}
