// The event store: the SQLite implementation (written by the store receiver) and the query types
// the control API reads through the "store" service.
export * from "./query.ts";
export { EventStore, type EventStoreOptions } from "./sqlite.ts";
export { parseSize } from "./size.ts";
