export * from "../util/endpoint.ts";
