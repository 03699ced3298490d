export * from "../util/lazy-builtins.ts";
