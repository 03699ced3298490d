// The journal parsers (dm/multipathd, lvm, mdraid/mdadm, smart, iscsi/iscsid) on hostile entries:
// a 10 MB message that starts like a real line, invalid UTF-8 (U+FFFD after decoding), NUL bytes,
// truncated lines. No throw, and nothing but well-formed events.
import { expect, test } from "bun:test";
import * as v from "valibot";
import type { AnyPluginDef, EventDraft, JournalRecord, Parser } from "../src/plugin-api.ts";
import { makeContext } from "./helpers/context.ts";
import dm from "../plugins/parser/dm/index.ts";
import lvm from "../plugins/parser/lvm/index.ts";
import mdraid from "../plugins/parser/mdraid/index.ts";
import smart from "../plugins/parser/smart/index.ts";
import iscsi from "../plugins/parser/iscsi/index.ts";

const STARTS: [string, string][] = [
  ["multipathd", "checker failed path 8:16 in map "], ["multipathd", "mpatha: remaining active paths: "],
  ["dmeventd", "WARNING: Thin pool vg-pool-tpool data is now "], ["mdadm", "Fail event detected on md device /dev/md0, component device "],
  ["smartd", "Device: /dev/sda [SAT], "], ["iscsid", "Kernel reported iSCSI connection 1:0 error (1020 - "],
];

function rec(daemon: string, msg: string): JournalRecord {
  return { kind: "journal", source: "journal", daemon, priority: 2, pid: 1, transport: "syslog", cursor: "", msg, time_us: 1, raw: `${daemon}[1]: ${msg}` };
}

test("10 MB messages, U+FFFD, NUL bytes and truncated lines: no throw, only well-formed events", async () => {
  const parsers: Parser[] = [];
  for (const def of [dm, lvm, mdraid, smart, iscsi] as unknown as AnyPluginDef[]) {
    const { ctx } = makeContext();
    parsers.push((await def.create(v.parse(def.schema, {}), ctx)) as Parser);
  }
  const out: EventDraft[] = [];
  const big = "9".repeat(10 << 20);
  for (const [daemon, start] of STARTS) {
    for (const msg of [start + big, start + "\uFFFD\uFFFD", start + "\0\0\0", start.slice(0, start.length >> 1), big + start, start + "a ".repeat(1 << 20)]) {
      for (const p of parsers) p.parse(rec(daemon, msg), (d) => out.push(d));
    }
  }
  for (const p of parsers) p.flush?.((d) => out.push(d), true);
  for (const d of out) {
    expect(d.event_type).toMatch(/^[A-Z][A-Z0-9_]*$/);
    expect((d.dev_name ?? "").length).toBeLessThan(300);
  }
});
