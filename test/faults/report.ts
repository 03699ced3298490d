// The fault suite's report: each scenario writes its section (what it injects, what must hold,
// the measured figures) as JSON beside faults-report.md, then the report is rebuilt from every
// section present, so scenarios can run in any order, alone or in separate processes.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ARTIFACTS = process.env.STOREVENTD_ARTIFACTS ?? join(tmpdir(), "storeventd-artifacts");
const SECTIONS = join(ARTIFACTS, "faults");

export interface Section {
  /** The scenario number (1..9) and a short name. */
  n: number;
  title: string;
  injects: string;
  holds: string[];
  figures: Record<string, number | string>;
  /** Scaled-down figures, env knobs and the like. */
  notes?: string[];
  /** "pass", or the first failed assertion. */
  result?: string;
}

function render(sections: Section[]): string {
  const out = ["# storeventd fault suite", "", `Written ${new Date().toISOString()} by test/faults/.`, ""];
  for (const s of sections.sort((a, b) => a.n - b.n || a.title.localeCompare(b.title))) {
    out.push(`## ${s.n}. ${s.title}`, "", `**Injects:** ${s.injects}`, "", "**Must hold:**", ...s.holds.map((h) => `- ${h}`), "");
    out.push("| figure | value |", "|---|---|", ...Object.entries(s.figures).map(([k, v]) => `| ${k} | ${v} |`), "");
    if (s.notes?.length) out.push(...s.notes.map((x) => `_${x}_`), "");
    out.push(`**Result:** ${s.result ?? "not finished"}`, "");
  }
  return out.join("\n");
}

/** Writes (or replaces) one scenario's section and rebuilds faults-report.md. */
export function writeSection(s: Section): void {
  mkdirSync(SECTIONS, { recursive: true });
  writeFileSync(join(SECTIONS, `${String(s.n).padStart(2, "0")}-${s.title.replace(/\W+/g, "-")}.json`), JSON.stringify(s, null, 2));
  const all = readdirSync(SECTIONS).filter((f) => f.endsWith(".json")).map((f) => JSON.parse(readFileSync(join(SECTIONS, f), "utf8")) as Section);
  writeFileSync(join(ARTIFACTS, "faults-report.md"), render(all));
}

/** A section that is always written, with the result of the run: call `done()` after the last
 * assertion; if the test throws first, the section says which assertion failed. */
export function section(base: Omit<Section, "figures" | "result">) {
  const s: Section = { ...base, figures: {}, result: undefined };
  return {
    figures: s.figures,
    note: (x: string) => void (s.notes ??= []).push(x),
    async run(body: () => Promise<void>): Promise<void> {
      try {
        await body();
        s.result = "pass";
      } catch (e) {
        s.result = `FAIL: ${(e as Error).message.split("\n").slice(0, 3).join(" ")}`;
        throw e;
      } finally {
        writeSection(s);
      }
    },
  };
}
