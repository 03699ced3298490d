// The live DRBD model: resources -> connections -> devices -> peer devices, fed by events2 records.
// Every change becomes a typed event. (Filled in by the DRBD work.)
import type { EventDraft } from "../event.ts";
import type { Events2Record } from "../records.ts";

export class DrbdModel {
  /** Applies one events2 record; emits an event per real change. */
  apply(rec: Events2Record, emit: (d: EventDraft) => void): void {
    void rec;
    void emit;
  }
  /** The model in the shape and key names of `drbdsetup status --json`. */
  toStatusJson(): unknown[] {
    return [];
  }
}
