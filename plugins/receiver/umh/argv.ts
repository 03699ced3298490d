// A command string as argv, without a shell: words split at blanks, '...' and "..." quote, and
// backslash escapes outside single quotes (POSIX shell word rules, minus everything that would need
// a shell). Shell syntax outside quotes ($, `, |, &, ;, <, >, (, ), *, ?, [, ~ at a word start, #)
// is refused: such a command must say `sh -c '...'` so that running a shell is explicit; a command
// that starts with `sh -c` (or bash/dash, by name or path) runs the rest of the line as the script.

export type SplitResult = { ok: true; argv: string[] } | { ok: false; error: string };

const SHELL_CHARS = new Set(["$", "`", "|", "&", ";", "<", ">", "(", ")", "*", "?", "[", "#"]);

const SHELL_PREFIX = /^\s*((?:\/[^\s/]+)*\/)?(sh|bash|dash)\s+-c\s+/;

export function splitCommand(cmd: string): SplitResult {
  // `sh -c SCRIPT`: the rest of the line is the script (one level of surrounding quotes removed).
  const sh = SHELL_PREFIX.exec(cmd);
  if (sh) {
    let script = cmd.slice(sh[0].length).trim();
    const q = script[0];
    if (script.length >= 2 && (q === "'" || q === '"') && script.endsWith(q) && !script.slice(1, -1).includes(q)) {
      script = script.slice(1, -1);
    }
    if (!script) return { ok: false, error: "empty script after sh -c" };
    return { ok: true, argv: [`${sh[1] ?? ""}${sh[2]}`, "-c", script] };
  }
  const argv: string[] = [];
  let cur = "";
  let inWord = false;
  let i = 0;
  const n = cmd.length;
  while (i < n) {
    const c = cmd[i]!;
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) argv.push(cur);
      cur = "";
      inWord = false;
      i++;
      continue;
    }
    if (c === "'") {
      const end = cmd.indexOf("'", i + 1);
      if (end < 0) return { ok: false, error: "unterminated ' quote" };
      cur += cmd.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= n) return { ok: false, error: 'unterminated " quote' };
        const d = cmd[i]!;
        if (d === '"') break;
        if (d === "$" || d === "`") return { ok: false, error: `shell expansion ${d} inside "..."` };
        if (d === "\\" && i + 1 < n && '"\\$`'.includes(cmd[i + 1]!)) {
          cur += cmd[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        i++;
      }
      i++;
      continue;
    }
    if (c === "\\") {
      if (i + 1 >= n) return { ok: false, error: "trailing backslash" };
      cur += cmd[i + 1];
      inWord = true;
      i += 2;
      continue;
    }
    if (SHELL_CHARS.has(c) || (c === "~" && !inWord)) {
      return { ok: false, error: `shell syntax '${c}'` };
    }
    cur += c;
    inWord = true;
    i++;
  }
  if (inWord) argv.push(cur);
  if (argv.length === 0) return { ok: false, error: "empty command" };
  // VAR=value before the command is shell syntax too.
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0]!)) return { ok: false, error: "shell syntax (variable assignment)" };
  return { ok: true, argv };
}

