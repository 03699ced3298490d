// Kernel log helpers for parsers and the kmsg sender: pattern tables, held reports, text guards, /dev/kmsg records.
export * from "../util/kpattern.ts";
export * from "../util/ktext.ts";
export * from "../kmsg/record.ts";
export { cutKmsg, decodeKmsgSlices } from "../kmsg/decode.ts";
