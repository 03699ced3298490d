// The event schema: severities, systems, the StorageEvent shape and its time format.
export * from "../event.ts";
