// The event types this sender emits itself (docs/events.md is generated from this).
import { eventTypes } from "../../../src/plugin-api.ts";

export const EVENTS = eventTypes({
  lost: "records lost",
  first_lost_seq: "sequence number of the first record lost",
  last_lost_seq: "sequence number of the last record lost",
}, [
  { type: "KMSG_OVERRUN", system: "daemon", severity: ["warn"], doc: "the kernel log ring overwrote records before they were read", keys: ["lost", "first_lost_seq", "last_lost_seq"] },
]);
