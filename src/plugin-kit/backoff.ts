export * from "../util/backoff.ts";
