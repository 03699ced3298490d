export * from "../util/tls-lib.ts";
