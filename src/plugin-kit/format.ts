export * from "../util/format.ts";
