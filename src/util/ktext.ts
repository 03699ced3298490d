// Small pure helpers for kernel log text shared by the kernel-log parser plugins.

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
