// `storeventd replay --journal FILE` over real `journalctl -o export` and `-o json` captures of a
// journald of the test's own (the smartd and mdadm fixture lines written with logger), and the
// export/json decoders on what journald writes for binary and repeated fields.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin } from "./helpers/bin.ts";
import { startJournalNamespace, type JournalNamespace } from "./helpers/journald.ts";
import { expectedEvents, PRIORITIES, readJournalFixture } from "./helpers/journal-fixtures.ts";
import { decodeJournalCapture, decodeJsonEntry, ExportDecoder } from "../src/journal/decode.ts";

const root = join(import.meta.dir, "..");
const lines = ["plugins/parser/smart/testdata/smartd.journal", "plugins/parser/mdraid/testdata/mdadm.journal"]
  .flatMap((f) => readJournalFixture(join(root, f)));
const expected = expectedEvents(lines).map(([t, s, d]) => `${t} ${s} ${d}`);

describe("replay --journal (binary)", () => {
  let jd: JournalNamespace;
  let dir: string;
  beforeAll(async () => {
    jd = await startJournalNamespace("j21replay", "[Journal]\nReadKMsg=yes\n");
    dir = mkdtempSync(join(tmpdir(), "journal21-replay-"));
    for (const l of lines) {
      const p = Bun.spawnSync(["logger", "-u", `/run/systemd/journal.${jd.ns}/dev-log`, "-t", l.daemon, "-p", `daemon.${PRIORITIES[l.priority]}`, "--", l.msg]);
      if (p.exitCode !== 0) throw new Error(p.stderr.toString());
    }
    writeFileSync("/dev/kmsg", "<26>mdadm[998]: Fail event detected on md device /dev/md9, component device /dev/sdz9\n");
    await jd.entries(["SYSLOG_IDENTIFIER=mdadm"], lines.filter((l) => l.daemon === "mdadm").length + 1);
  });
  afterAll(async () => {
    await jd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const format of ["export", "json"]) {
    test(`a -o ${format} capture gives each fixture line's event once, kernel entries skipped`, async () => {
      const file = join(dir, `capture.${format}`);
      const cap = Bun.spawnSync(["journalctl", `--namespace=${jd.ns}`, "-o", format, "--all"]);
      writeFileSync(file, cap.stdout);
      const r = await runBin(["replay", "--journal", file, "--json"]);
      expect(r.code).toBe(0);
      const got = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
      expect(got.map((e) => `${e.event_type} ${e.severity} ${e.dev_name}`)).toEqual(expected);
      expect(got.some((e) => e.dev_name === "sdz9")).toBe(false);
      expect(got[0].raw).toMatch(/^smartd\[\d+\]: Device: \/dev\/sda \[SAT\]/);
      expect(r.stderr).toContain("skipped");
    }, 30_000);
  }
});

describe("journal capture decoders", () => {
  const le64 = (n: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(n), true); return b; };
  const bytes = (...parts: (string | Uint8Array)[]) => {
    const enc = new TextEncoder();
    const arrs = parts.map((p) => (typeof p === "string" ? enc.encode(p) : p));
    const out = new Uint8Array(arrs.reduce((n, a) => n + a.length, 0));
    let o = 0;
    for (const a of arrs) out.set(a, o), o += a.length;
    return out;
  };

  test("ExportDecoder reads binary fields (a MESSAGE with a newline) across chunk boundaries", () => {
    const msg = "line one\nline two";
    const data = bytes("__CURSOR=s=1\n__REALTIME_TIMESTAMP=1767225600000001\nMESSAGE\n", le64(msg.length), msg, "\nSYSLOG_IDENTIFIER=smartd\n\n",
      "MESSAGE=second\nSYSLOG_IDENTIFIER=mdadm\n\n");
    for (const cut of [1, 20, 60, 70, data.length - 3]) {
      const d = new ExportDecoder();
      const got = [...d.push(data.subarray(0, cut)), ...d.push(data.subarray(cut)), ...d.end()];
      expect(got).toEqual([
        { __CURSOR: "s=1", __REALTIME_TIMESTAMP: "1767225600000001", MESSAGE: msg, SYSLOG_IDENTIFIER: "smartd" },
        { MESSAGE: "second", SYSLOG_IDENTIFIER: "mdadm" },
      ]);
    }
  });

  test("decodeJsonEntry() takes byte arrays, the first of repeated values, and drops nulls", () => {
    expect(decodeJsonEntry('{"MESSAGE":[104,105,10,33],"SYSLOG_IDENTIFIER":["smartd","x"],"BIG":null,"PRIORITY":"2"}'))
      .toEqual({ MESSAGE: "hi\n!", SYSLOG_IDENTIFIER: "smartd", PRIORITY: "2" });
    expect(decodeJsonEntry("not json")).toBeUndefined();
  });

  test("decodeJournalCapture() tells JSON from export by the first byte", () => {
    expect([...decodeJournalCapture(new TextEncoder().encode('{"MESSAGE":"a"}\n{"MESSAGE":"b"}\n'))]).toEqual([{ MESSAGE: "a" }, { MESSAGE: "b" }]);
    expect([...decodeJournalCapture(new TextEncoder().encode("MESSAGE=a\n\nMESSAGE=b\n"))]).toEqual([{ MESSAGE: "a" }, { MESSAGE: "b" }]);
  });
});
