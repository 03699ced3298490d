// IRC text for events and the token bucket of common flood control. Pure.
import type { StorageEvent } from "../../../src/plugin-api.ts";

const COLOR = { error: "\x0304", warn: "\x0307", info: "\x0303" } as const;

/** One line per event: "[ERROR] node-a DM_MPATH_PATH_DOWN sdc: <msg>", at most max bytes. */
export function eventLine(e: StorageEvent, max: number, colors = false): { text: string; truncated: boolean } {
  const sev = e.severity.toUpperCase();
  const tag = colors ? `${COLOR[e.severity] ?? ""}[${sev}]\x0f` : `[${sev}]`;
  // CR, LF and NUL would end or break the IRC message; other control characters are harmless.
  const flat = (s: string) => s.replace(/[\r\n\0]+/g, " ");
  let text = flat(`${tag} ${e.hostname} ${e.event_type}${e.dev_name ? " " + e.dev_name : ""}: ${e.msg}`);
  if (Buffer.byteLength(text) <= max) return { text, truncated: false };
  text = Buffer.from(text).subarray(0, Math.max(0, max - 3)).toString("utf8").replace(/\uFFFD$/, "") + "…";
  return { text, truncated: true };
}

/** A token bucket: `burst` tokens, one more every `intervalMs`. */
export class TokenBucket {
  private tokens: number;
  private at: number;
  constructor(private burst: number, private intervalMs: number, now = performance.now()) {
    this.tokens = burst;
    this.at = now;
  }
  private refill(now: number): void {
    const add = (now - this.at) / this.intervalMs;
    if (add > 0) {
      this.tokens = Math.min(this.burst, this.tokens + add);
      this.at = now;
    }
  }
  /** Takes a token if there is one. */
  take(now = performance.now()): boolean {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
  /** ms until the next token. */
  wait(now = performance.now()): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) * this.intervalMs);
  }
}

/** RFC 2812 nickname: letter or special first, then letters, digits, specials, '-'. */
export const NICK_RE = /^[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]{0,29}$/;
/** A channel name: # & + ! prefix, no space, comma, BEL. */
export const CHANNEL_RE = /^[#&+!][^\s,\x07]{1,49}$/;
