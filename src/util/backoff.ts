// Capped exponential backoff with jitter (the shape of Deno std's async/retry.ts): the n-th delay is
// min(maxTimeout, minTimeout * multiplier^n), minus up to `jitter` of it at random. Used for
// drbdsetup restarts and receiver reconnects.

export interface BackoffOptions {
  /** First delay in ms (default 100). */
  minTimeout?: number;
  /** Growth per attempt (default 2). */
  multiplier?: number;
  /** Cap in ms (default 60000). */
  maxTimeout?: number;
  /** Fraction 0..1 of each delay taken off at random (default 1: full jitter). */
  jitter?: number;
  /** For tests: a deterministic source of [0, 1). */
  random?: () => number;
}

export class Backoff {
  readonly minTimeout: number;
  readonly multiplier: number;
  readonly maxTimeout: number;
  readonly jitter: number;
  private random: () => number;
  private n = 0;

  constructor(o: BackoffOptions = {}) {
    this.minTimeout = o.minTimeout ?? 100;
    this.multiplier = o.multiplier ?? 2;
    this.maxTimeout = o.maxTimeout ?? 60_000;
    this.jitter = o.jitter ?? 1;
    this.random = o.random ?? Math.random;
    if (!(this.minTimeout >= 0) || !(this.multiplier >= 1) || !(this.maxTimeout >= this.minTimeout)) {
      throw new RangeError("backoff: need 0 <= minTimeout <= maxTimeout and multiplier >= 1");
    }
    if (!(this.jitter >= 0 && this.jitter <= 1)) throw new RangeError("backoff: jitter must be within 0..1");
  }

  /** Attempts since the last reset. */
  get attempt(): number {
    return this.n;
  }

  /** The next delay in ms. */
  next(): number {
    const exp = Math.min(this.maxTimeout, this.minTimeout * this.multiplier ** this.n);
    this.n++;
    return Math.round(exp - this.jitter * this.random() * exp);
  }

  reset(): void {
    this.n = 0;
  }
}

/** Waits ms; resolves false early when signal aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface RetryOptions extends BackoffOptions {
  signal?: AbortSignal;
  /** Give up after this many attempts (default: never). */
  maxAttempts?: number;
  isRetriable?: (err: unknown) => boolean;
}

/** Calls fn until it resolves, backing off between failures; rethrows the last error on give-up. */
export async function retry<T>(fn: () => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const b = new Backoff(o);
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (o.isRetriable && !o.isRetriable(e)) throw e;
      if (o.maxAttempts !== undefined && b.attempt + 1 >= o.maxAttempts) throw e;
      if (!(await sleep(b.next(), o.signal))) throw e;
    }
  }
}
