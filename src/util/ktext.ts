// Small pure helpers for kernel log text shared by the kernel-log parser plugins.
import type { GuardContext } from "./kpattern.ts";

/** NUL and U+FFFD: /dev/kmsg escapes NUL and invalid bytes as \xNN, so raw ones are not kernel text. */
export const BAD_TEXT = /[\0\ufffd]/;

/**
 * The lines of one kernel record. A printk with an embedded newline (md's "Disk failure ...\n
 * Operation continuing ...") is one /dev/kmsg record whose text holds "\x0a" (the kernel escapes
 * control bytes); a decoder that unescapes it yields a real "\n". Both split here.
 */
export function recordLines(msg: string): string[] {
  return msg.includes("\n") || msg.includes("\\x0a") ? msg.split(/\n|\\x0a/).filter((l) => l !== "") : [msg];
}

/** A guard that counts and logs nothing (parsers built directly in unit tests). */
export const NO_GUARD: GuardContext = { count() {}, log: { once() {} } };

/**
 * True, counted and logged (rate-limited), when a line a pattern matched holds a raw NUL or U+FFFD: the
 * kernel escapes such bytes as \xNN, so this is not kernel text and must not become an event.
 */
export function invalidText(line: string, guard: GuardContext): boolean {
  if (!BAD_TEXT.test(line)) return false;
  guard.count("records_invalid_text");
  guard.log.once("invalid_text", "skipping a kernel line with a raw NUL or undecodable bytes (the kernel escapes them as \\xNN)");
  return true;
}
