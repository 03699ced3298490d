// iscsid's journal lines through the iscsi parser (testdata/iscsid.journal), and the join with the kernel's conn error.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import plugin from "./index.ts";
import { makeParser, readKmsgFixture } from "../../../test/helpers/parser-fixtures.ts";
import { expectedEvents, fixtureRecord, readJournalFixture, runJournalFixture } from "../../../test/helpers/journal-fixtures.ts";
import type { EventDraft } from "../../../src/plugin-api.ts";

const fixture = readJournalFixture(join(import.meta.dir, "testdata", "iscsid.journal"));

describe("iscsi parser: iscsid lines", () => {
  test("each iscsid fixture line gives the event its fixture names, once", async () => {
    const { parser } = await makeParser(plugin);
    const got = runJournalFixture(parser, fixture);
    expect(got.map((d) => [d.event_type, d.severity, d.dev_name])).toEqual(expectedEvents(fixture));
    expect(got[0]!.extension).toMatchObject({ error: 1020, error_name: "ISCSI_ERR_TCP_CONN_CLOSE", conn_state: 3 });
    expect(got[3]!.extension).toMatchObject({ target: "iqn.2003-01.org.linux-iscsi.target:sn.1234", portal: "192.0.2.10:3260", iface: "default" });
  });

  test("the kernel's conn error and iscsid's report of it are one event", async () => {
    const { parser } = await makeParser(plugin);
    const out: EventDraft[] = [];
    // drivers/scsi/scsi_transport_iscsi.c iscsi_conn_error_event: "detected conn error (%d)"
    const kernel = readKmsgFixture("3,700,1000000,-; connection1:0: detected conn error (1020)\n");
    for (const r of kernel) parser.parse(r, (d) => out.push(d));
    parser.parse({ ...fixtureRecord(fixture[0]!), time_us: kernel[0]!.time_us! + 5000 }, (d) => out.push(d));
    expect(out.map((d) => [d.event_type, d.dev_name])).toEqual([["ISCSI_CONN_ERROR", "connection1:0"]]);
  });
});
