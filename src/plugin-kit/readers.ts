// The native and fallback readers senders open (kmsg, journal, netlink uevents) and their decoders.
export * from "../native.ts";
export * from "../kmsg/reader.ts";
export * from "../journal/reader.ts";
export * from "../journal/decode.ts";
export * from "../uevent/parse.ts";
export * from "../uevent/layout.ts";
export * from "../util/state-file.ts";
