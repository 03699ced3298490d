// PatternTable.match() skips patterns by their regex's literal prefix (src/util/regex-prefix.ts):
// on every message of every parser fixture (*.kmsg, *.journal) it must pick what the plain ordered scan (needle, then
// regex, first match wins) picks.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { PatternTable } from "../src/util/kpattern.ts";
import { LVM_TABLE } from "../plugins/parser/lvm/patterns.ts";
import { SMART_TABLE } from "../plugins/parser/smart/patterns.ts";
import { ISCSI_TABLE } from "../plugins/parser/iscsi/iscsi.ts";
import { fsTable } from "../plugins/parser/fs/patterns.ts";
import { NVME_TABLE } from "../plugins/parser/nvme/nvme.ts";
import { BLOCK_TABLE } from "../plugins/parser/block/block.ts";
import { SCSI_TABLE } from "../plugins/parser/scsi/patterns.ts";
import { ATA_TABLE } from "../plugins/parser/ata/ata.ts";
import { dmTable } from "../plugins/parser/dm/patterns.ts";
import { mdTable } from "../plugins/parser/mdraid/patterns.ts";

const TABLES: Record<string, PatternTable> = {
  LVM_TABLE, SMART_TABLE, ISCSI_TABLE, fsTable, NVME_TABLE, BLOCK_TABLE, SCSI_TABLE, ATA_TABLE, dmTable, mdTable,
};

function fixtureMessages(): string[] {
  const out = new Set<string>(["", " ", "\u00e9XFS (sda): x", "xfs (sda): Ending clean mount"]);
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".kmsg")) {
        for (const line of readFileSync(p, "utf8").split("\n")) {
          const semi = line.indexOf(";");
          const msg = /^\d+,\d+,\d+,/.test(line) && semi > 0 ? line.slice(semi + 1) : line;
          out.add(msg);
          // Near misses: each message without its first character, and with its first one doubled.
          out.add(msg.slice(1));
          out.add(msg.slice(0, 1) + msg);
        }
      } else if (e.name.endsWith(".journal")) {
        // IDENTIFIER<TAB>PRIORITY<TAB>MESSAGE<TAB>EXPECTED; smartd's "Device: X, " is cut before matching.
        for (const line of readFileSync(p, "utf8").split("\n")) {
          const msg = line.split("\t")[2];
          if (msg === undefined) continue;
          out.add(msg);
          out.add(msg.slice(msg.indexOf(", ") + 2));
        }
      }
    }
  };
  walk(join(import.meta.dir, "../plugins"));
  return [...out];
}

function plainScan(t: PatternTable, msg: string): string | undefined {
  for (const p of t.patterns) if (msg.includes(p.needle) && p.re.exec(msg)) return p.id;
  return undefined;
}

describe("PatternTable.match() with literal prefixes", () => {
  const msgs = fixtureMessages();
  for (const [name, table] of Object.entries(TABLES)) {
    test(`${name}: the same pattern and groups as the plain ordered scan on every fixture message`, () => {
      let hits = 0;
      for (const msg of msgs) {
        // A gate (when the table has one) is part of match(); compare where it lets the message through.
        if (!table.mayMatch(msg)) {
          expect(table.match(msg)).toBeUndefined();
          continue;
        }
        const want = plainScan(table, msg);
        const got = table.match(msg);
        expect(`${msg} -> ${got?.id}`).toBe(`${msg} -> ${want}`);
        if (got) hits++;
      }
      expect(hits).toBeGreaterThan(0);
    });
  }
});
