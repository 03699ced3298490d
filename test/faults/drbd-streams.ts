// Generates the events2 streams of the "drbdsetup dies" scenario and, by construction, the real
// differences between two states: a set of resources (one volume each) with a role and a disk.
export interface Res { name: string; minor: number; role: "Primary" | "Secondary"; disk: string }
export type State = Map<string, Res>;

const DISKS = ["UpToDate", "Outdated", "Inconsistent", "Diskless"];
const resFields = (r: Res) => `name:${r.name} role:${r.role} suspended:no force-io-failures:no write-ordering:flush may_promote:no promotion_score:10102`;
const devFields = (r: Res) => `name:${r.name} volume:0 minor:${r.minor} backing_dev:/dev/vg0/${r.name}_0 disk:${r.disk} client:no open:no quorum:yes size:1048576 read:0 written:0 al-writes:0 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no blocked:no`;

export function randomState(rnd: () => number, names = 6): State {
  const s: State = new Map();
  for (let i = 0; i < names; i++) {
    if (rnd() < 0.4) continue;
    const name = `f20r${i}`;
    s.set(name, { name, minor: 1000 + i, role: rnd() < 0.3 ? "Primary" : "Secondary", disk: DISKS[Math.floor(rnd() * DISKS.length)]! });
  }
  if (!s.size) s.set("f20r0", { name: "f20r0", minor: 1000, role: "Secondary", disk: "UpToDate" });
  return s;
}

export const dumpLines = (s: State) => [...s.values()].flatMap((r) => [`exists resource ${resFields(r)}`, `exists device ${devFields(r)}`]).concat("exists -");

/** Change lines for a few random role/disk changes of existing resources; applies them to s. */
export function changes(s: State, rnd: () => number, n: number): string[] {
  const out: string[] = [];
  const all = [...s.values()];
  for (let i = 0; i < n; i++) {
    const r = all[Math.floor(rnd() * all.length)]!;
    if (rnd() < 0.5) {
      r.role = r.role === "Primary" ? "Secondary" : "Primary";
      out.push(`change resource name:${r.name} role:${r.role}`);
    } else {
      const d = DISKS.filter((x) => x !== r.disk)[Math.floor(rnd() * 3)]!;
      r.disk = d;
      out.push(`change device name:${r.name} volume:0 minor:${r.minor} disk:${d}`);
    }
  }
  return out;
}

export const clone = (s: State): State => new Map([...s].map(([k, r]) => [k, { ...r }]));

/** The real differences from a to b as events2 lines a fresh model turns into events. */
export function diffLines(a: State, b: State): string[] {
  const out: string[] = [];
  for (const [k, r] of a) if (!b.has(k)) out.push(`destroy device name:${k} volume:0 minor:${r.minor}`, `destroy resource name:${k}`);
  for (const [k, r] of b) {
    const o = a.get(k);
    if (!o) {
      out.push(`create resource ${resFields(r)}`, `create device ${devFields(r)}`);
      continue;
    }
    if (o.role !== r.role) out.push(`change resource name:${k} role:${r.role}`);
    if (o.disk !== r.disk) out.push(`change device name:${k} volume:0 minor:${r.minor} disk:${r.disk}`);
  }
  return out;
}
