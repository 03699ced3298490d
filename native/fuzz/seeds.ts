// Builds each fuzz target's seed corpus from the project's fixtures (not committed twice): every
// record, uevent and events2 line the tests use, one file each, plus the hand-made seeds in
// native/fuzz/corpus/<target>/ and any regression inputs in native/fuzz/regressions/<target>/.
// Usage: bun native/fuzz/seeds.ts OUTDIR   (writes OUTDIR/<target>/)
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseUeventMessage, UeventFormat } from "../../src/uevent/parse.ts";

const root = join(import.meta.dir, "../..");
const out = process.argv[2] ?? join(root, "build/fuzz/seeds");
const MAX = 64 * 1024;

function filesUnder(dir: string, name: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && name.test(d.name))
    .map((d) => join(d.parentPath, d.name));
}

function write(target: string, seeds: Buffer[]): number {
  const dir = join(out, target);
  mkdirSync(dir, { recursive: true });
  let n = 0;
  for (const s of seeds) if (s.length && s.length <= MAX) writeFileSync(join(dir, `seed-${n++}`), s);
  return n;
}

function handMade(target: string): Buffer[] {
  return ["corpus", "regressions"].flatMap((d) => filesUnder(join(root, "native/fuzz", d, target), /./).map((f) => readFileSync(f)));
}

/** Splits a buffer at each byte offset where `starts` matches (kept with the next piece). */
function splitAt(buf: Buffer, starts: RegExp): Buffer[] {
  const text = buf.toString("latin1");
  const cuts = [0, ...[...text.matchAll(starts)].map((m) => m.index!).filter((i) => i > 0), text.length];
  return cuts.slice(1).map((end, i) => buf.subarray(cuts[i], end));
}

const kmsgFiles = filesUnder(join(root, "plugins"), /\.kmsg$/);
const kmsg = kmsgFiles.flatMap((f) => {
  const b = readFileSync(f);
  return [b.subarray(0, MAX), ...splitAt(b, /(?<=\n)(?=\d+,\d+,\d+,)/g)];
});
const ueventFiles = filesUnder(join(root, "plugins"), /\.uevent$/);
const uevent = ueventFiles.flatMap((f) => splitAt(readFileSync(f), /(?<=\0)(?=(?:add|remove|change|move|online|offline|bind|unbind)@\/|libudev\0)/g));
const events2Files = [...filesUnder(join(root, "test/drbd/streams"), /\.events2$/), ...filesUnder(join(root, "plugins"), /\.events2$/)];
const events2 = events2Files.flatMap((f) => {
  const b = readFileSync(f);
  return [b.subarray(0, MAX), ...splitAt(b, /(?<=\n)/g)];
});

// Journal fixtures (plugins/parser/*/testdata/*.journal: IDENT<TAB>PRIORITY<TAB>MESSAGE<TAB>...) as entries' data objects.
const journal = filesUnder(join(root, "plugins"), /\.journal$/).flatMap((f) =>
  readFileSync(f, "utf8").split("\n").filter((l) => l && !l.startsWith("#")).map((l) => {
    const [ident, prio, msg] = l.split("\t");
    const p = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"].indexOf(prio ?? "");
    return Buffer.from(`_TRANSPORT=syslog\nPRIORITY=${p < 0 ? prio : p}\nSYSLOG_IDENTIFIER=${ident}\n_PID=4242\n_COMM=${ident}\nMESSAGE=${msg}`);
  }));

const counts = {
  kmsg_record: write("kmsg_record", [...kmsg, ...handMade("kmsg_record")]),
  uevent_parse: write("uevent_parse", [...uevent, ...handMade("uevent_parse")]),
  // The layout's input is a packed record: the parser's output of each fixture message.
  uevent_layout: write("uevent_layout", [...uevent, ...handMade("uevent_parse")].flatMap((m) => {
    const p = parseUeventMessage(m);
    return p.format === UeventFormat.Bad ? [] : [Buffer.from(p.packed)];
  })),
  events2: write("events2", [...events2, ...handMade("events2")]),
  journal_entry: write("journal_entry", [...journal, ...handMade("journal_entry")]),
};
console.log(`seeds: ${Object.entries(counts).map(([t, n]) => `${t} ${n}`).join(", ")} in ${out}`);
