// smol-toml returns plain values without positions; this scanner maps key paths back to the line
// that defined them, so validation errors can say file:line. It understands table headers,
// arrays of tables, dotted keys and skips multi-line strings; a key inside an inline table or an
// array element resolves to the line of its nearest defined ancestor.

export type KeyPath = (string | number)[];

function splitDotted(key: string): string[] {
  const parts: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(key)) && m[0] !== "") parts.push(m[1] ?? m[2] ?? m[3] ?? "");
  return parts;
}

export class TomlLines {
  private lines = new Map<string, number>();

  constructor(text: string) {
    let table: KeyPath = [];
    const arrayCount = new Map<string, number>();
    let inMulti: string | null = null;
    // A header under an array of tables ([[a]] then [a.b]) belongs to its last element: a.<n>.b.
    const underArrays = (parts: string[], upTo: number): KeyPath => {
      const out: KeyPath = [];
      parts.forEach((p, i) => {
        out.push(p);
        const n = i < upTo ? arrayCount.get(parts.slice(0, i + 1).join("\0")) : undefined;
        if (n !== undefined) out.push(n - 1);
      });
      return out;
    };
    text.split("\n").forEach((raw, i) => {
      const lineNo = i + 1;
      if (inMulti) {
        if (raw.includes(inMulti)) inMulti = null;
        return;
      }
      const line = raw.trim();
      if (!line || line.startsWith("#")) return;
      let m = /^\[\[\s*([^\]]+?)\s*\]\]/.exec(line);
      if (m) {
        const parts = splitDotted(m[1]!);
        const k = parts.join("\0");
        const idx = arrayCount.get(k) ?? 0;
        arrayCount.set(k, idx + 1);
        const base = underArrays(parts, parts.length - 1);
        table = [...base, idx];
        this.set(table, lineNo);
        this.set(base, lineNo, false);
        return;
      }
      m = /^\[\s*([^\]]+?)\s*\]/.exec(line);
      if (m) {
        const parts = splitDotted(m[1]!);
        table = underArrays(parts, parts.length);
        this.set(table, lineNo);
        return;
      }
      m = /^((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.\s-])+?)\s*=\s*(.*)$/.exec(line);
      if (m) {
        this.set([...table, ...splitDotted(m[1]!)], lineNo);
        const rest = m[2]!;
        for (const q of ['"""', "'''"]) {
          const at = rest.indexOf(q);
          if (at >= 0 && rest.indexOf(q, at + 3) < 0) inMulti = q;
        }
      }
    });
  }

  private set(path: KeyPath, line: number, overwrite = true): void {
    const k = path.join("\0");
    if (overwrite || !this.lines.has(k)) this.lines.set(k, line);
  }

  /** Line of the path, or of its nearest ancestor that has one. */
  lineOf(path: KeyPath): number | undefined {
    for (let n = path.length; n > 0; n--) {
      const line = this.lines.get(path.slice(0, n).join("\0"));
      if (line !== undefined) return line;
    }
    return undefined;
  }
}
