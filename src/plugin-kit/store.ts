// The event store's query interface (the control API asks it; the store receiver implements it).
export * from "../store-api.ts";
