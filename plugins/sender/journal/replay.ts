// `replay --journal`: a `journalctl -o export` or `-o json` capture -> the JournalRecords the live
// sender hands the parsers. Only the storage daemons' entries (the sender's default `daemons`);
// kernel-transport entries are the kmsg sender's and never read, as live.
import type { JournalRecord } from "../../../src/plugin-api.ts";
import { decodeJournalCapture, DEFAULT_DAEMONS, entryDaemon, journalRecord } from "../../../src/plugin-kit/readers.ts";

export function* replayJournal(data: Uint8Array, note: (s: string) => void = () => {}): Iterable<{ rec: JournalRecord; drafts: [] }> {
  const daemons = new Set<string>(DEFAULT_DAEMONS);
  let others = 0;
  for (const f of decodeJournalCapture(data)) {
    const daemon = entryDaemon(f, daemons);
    if (daemon) yield { rec: journalRecord(f, daemon, "journal"), drafts: [] };
    else others++;
  }
  if (others) note(`replay: ${others} journal entries of other programs or the kernel skipped`);
}
