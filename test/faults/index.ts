// The fault suite's shared helpers (test/faults/*.test.ts).
export * from "./report.ts";
export * from "./daemon.ts";
