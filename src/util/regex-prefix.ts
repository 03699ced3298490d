// The literal text every match of an anchored regex starts with ("^XFS \((?<dev>..." -> "XFS ("), so
// a pattern table can skip, by one startsWith, the patterns a message cannot match. Conservative:
// any construct it does not fully understand ends the prefix; "" when nothing is certain.

// Characters that stand for themselves outside a class; escaped punctuation is taken below.
const PLAIN = /^[A-Za-z0-9 _:,;<>=!@#%&'"~`/-]$/;
const ESCAPED = /^[()[\]{}.*+?^$|\\/-]$/;

/** Index of the ")" closing the group opened at `open`, and whether a "|" is at the group's own
 * level; -1 when the source is not understood. */
function groupEnd(s: string, open: number): { end: number; alt: boolean } {
  let depth = 0;
  let alt = false;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") i++;
    else if (c === "[") {
      // A class: skip to its unescaped "]" (a "]" first in the class is literal in JS only with \).
      for (i++; i < s.length && s[i] !== "]"; i++) if (s[i] === "\\") i++;
    } else if (c === "(") depth++;
    else if (c === ")") {
      if (--depth === 0) return { end: i, alt };
    } else if (c === "|" && depth === 1) alt = true;
  }
  return { end: -1, alt };
}

/** The literal prefix every match of `re` has; "" when none is certain. */
export function literalPrefix(re: RegExp): string {
  // i: case folds; m: "^" also after a newline; g/y: exec depends on lastIndex.
  if (/[imgy]/.test(re.flags)) return "";
  const s = re.source;
  if (s[0] !== "^") return "";
  // A "|" at the top level makes "^" anchor only its first alternative.
  const whole = groupEnd(`(${s})`, 0);
  if (whole.end < 0 || whole.alt) return "";
  let out = "";
  let i = 1;
  while (i < s.length) {
    const c = s[i]!;
    let lit: string | undefined;
    let next = i + 1;
    if (c === "(") {
      // Enter a leading group only when it is plain ("(?:" or a named "(?<name>"), has no
      // alternatives of its own and is not made optional or repeatable by a quantifier.
      const named = /^\(\?<([A-Za-z_$][\w$]*)>/.exec(s.slice(i));
      const open = named ? named[0].length : s.startsWith("(?:", i) ? 3 : 0;
      if (open === 0) break;
      const g = groupEnd(s, i);
      if (g.end < 0 || g.alt || "?*{+".includes(s[g.end + 1] ?? "")) break;
      i += open;
      continue;
    }
    if (c === "\\") {
      if (ESCAPED.test(s[i + 1] ?? "")) lit = s[i + 1];
      next = i + 2;
    } else if (PLAIN.test(c)) lit = c;
    if (lit === undefined) break;
    const q = s[next] ?? "";
    if (q === "?" || q === "*" || q === "{") break; // optional or counted: not certain
    out += lit;
    if (q === "+") break; // at least once: this one is certain, the rest is not
    i = next;
  }
  return out;
}
