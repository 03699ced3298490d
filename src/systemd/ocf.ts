// Start entries and systemd names: `ocf:VENDOR:AGENT INSTANCE k=v ...` becomes the drbd-utils
// template instance ocf.ra@INSTANCE_RES.service with AGENT and OCF_RESKEY_* environment; other
// entries are unit names. Escaping follows systemd-escape (unit names) and drbd-reactor's relaxed
// variant for Environment= values.

export const OCF_TEMPLATE = "ocf.ra";
export const OCF_ROOT = "/usr/lib/ocf/resource.d";

/** systemd-escape of a name (not a path): "/" -> "-", [A-Za-z0-9:_] and "." (not first) kept, others \xNN. */
export function escapeName(name: string): string {
  let out = "";
  const bytes = new TextEncoder().encode(name);
  bytes.forEach((b, i) => {
    const c = String.fromCharCode(b);
    if (c === "/") out += "-";
    else if (/[A-Za-z0-9:_]/.test(c) || (c === "." && i > 0)) out += c;
    else out += `\\x${b.toString(16).padStart(2, "0")}`;
  });
  return out;
}

/** Environment= value escaping: [A-Za-z0-9./:_] kept, everything else \xNN (systemd unescapes it). */
export function escapeEnv(value: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(value)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9./:_]/.test(c) ? c : `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** POSIX-shell-like word splitting (quotes, backslashes), no expansion; undefined on an open quote. */
export function splitWords(s: string): string[] | undefined {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return undefined;
      cur += s.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      i++;
      for (; i < s.length && s[i] !== '"'; i++) {
        if (s[i] === "\\" && i + 1 < s.length && '"\\$`\n'.includes(s[i + 1]!)) i++;
        cur += s[i];
      }
      if (i >= s.length) return undefined;
      inWord = true;
    } else if (c === "\\") {
      if (i + 1 < s.length) {
        if (s[i + 1] !== "\n") cur += s[i + 1];
        i++;
      }
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

export type StartEntry =
  | { unit: string; env: string[]; ocf?: { vendor: string; agent: string; instance: string } }
  | { error: string };

/** The unit a start entry names for resource `res`, and the Environment= lines of an OCF agent. */
export function parseStartEntry(res: string, entry: string): StartEntry {
  const e = entry.trim();
  const m = /^ocf:(\S+):(\S+)\s+([\s\S]*)$/.exec(e);
  if (!m) {
    if (e.startsWith("ocf:")) return { error: `"${e}": an OCF entry is ocf:VENDOR:AGENT INSTANCE [k=v ...]` };
    return { unit: e, env: [] };
  }
  const [, vendor, agent, rest] = m as unknown as [string, string, string, string];
  const args = splitWords(rest);
  if (!args) return { error: `"${e}": unbalanced quotes` };
  if (!args.length) return { error: `"${e}": an OCF entry needs an instance name after the agent` };
  const instance = args[0]!;
  const env: string[] = [];
  for (const a of args.slice(1)) {
    if (!a) continue;
    const eq = a.indexOf("=");
    env.push(eq < 0 ? `OCF_RESKEY_${a}=` : `OCF_RESKEY_${a.slice(0, eq)}=${escapeEnv(a.slice(eq + 1))}`);
  }
  env.push(`AGENT=${OCF_ROOT}/${escapeEnv(vendor)}/${escapeEnv(agent)}`);
  return { unit: `${OCF_TEMPLATE}@${escapeName(`${instance}_${res}`)}.service`, env, ocf: { vendor, agent, instance } };
}

/** drbd-services@RES.target with RES escaped. */
export function servicesTarget(res: string): string {
  return `drbd-services@${escapeName(res)}.target`;
}

export function promoteService(res: string): string {
  return `drbd-promote@${escapeName(res)}.service`;
}
