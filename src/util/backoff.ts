// Exponential backoff with jitter (the shape of Deno std's async/retry.ts): for receiver reconnects
// and drbdsetup restarts. Pure apart from sleep(); no fixed retry sleeps anywhere.

export interface BackoffOptions {
  /** First delay in ms. */
  minTimeout?: number;
  /** Growth per attempt. */
  multiplier?: number;
  /** Cap in ms. */
  maxTimeout?: number;
  /** 0..1: the fraction of each delay that is randomised (1 = "full jitter"). */
  jitter?: number;
  signal?: AbortSignal;
}

export const BACKOFF_DEFAULTS = { minTimeout: 500, multiplier: 2, maxTimeout: 30_000, jitter: 0.5 } as const;

/** The delay in ms before retry number `attempt` (0-based). `random` is for tests. */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const min = opts.minTimeout ?? BACKOFF_DEFAULTS.minTimeout;
  const mult = opts.multiplier ?? BACKOFF_DEFAULTS.multiplier;
  const max = opts.maxTimeout ?? BACKOFF_DEFAULTS.maxTimeout;
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? BACKOFF_DEFAULTS.jitter));
  const base = Math.min(max, min * mult ** Math.max(0, attempt));
  return Math.round(base * (1 - jitter * random()));
}

/** Resolves after ms, or early (false) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Stateful helper for a reconnect loop: next() sleeps the next delay; reset() after a success. */
export class Backoff {
  attempt = 0;
  constructor(private opts: BackoffOptions = {}) {}
  next(): Promise<boolean> {
    return sleep(backoffDelay(this.attempt++, this.opts), this.opts.signal);
  }
  reset(): void {
    this.attempt = 0;
  }
}

/**
 * Calls fn until it resolves, at most `attempts` times, sleeping with backoff in between.
 * onRetry sees each failure that will be retried. Rethrows the last error (or an abort).
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: BackoffOptions & { attempts?: number; isRetriable?: (e: unknown) => boolean; onRetry?: (e: unknown, attempt: number) => void } = {},
): Promise<T> {
  const attempts = opts.attempts ?? 5;
  for (let i = 0; ; i++) {
    try {
      return await fn(i);
    } catch (e) {
      if (i + 1 >= attempts || (opts.isRetriable && !opts.isRetriable(e)) || opts.signal?.aborted) throw e;
      opts.onRetry?.(e, i);
      if (!(await sleep(backoffDelay(i, opts), opts.signal))) throw e;
    }
  }
}
