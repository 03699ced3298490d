// The promoter engine's vocabulary: its clock and runner seams, its states and what status() reports.
import type { ResolvedResource } from "./config.ts";
import type { SleepTerms, SplitBrainPolicy } from "./decide.ts";

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** What carries out decisions for one resource (systemd or shell); errors are thrown with the reason. */
export interface Runner {
  start(res: ResolvedResource): Promise<void>;
  stop(res: ResolvedResource): Promise<void>;
  freeze(res: ResolvedResource): Promise<void>;
  thaw(res: ResolvedResource): Promise<void>;
  isActive(res: ResolvedResource): Promise<boolean>;
  /** Unit states for status (systemd: the target, the promote unit, each start unit). */
  units?(res: ResolvedResource): Promise<{ unit: string; state: string }[]>;
}

export type PromoterState = "idle" | "sleeping" | "starting" | "active" | "stopping" | "frozen" | "failed";

export interface Decided {
  at: number;
  action: string;
  reason: string;
  ok: boolean;
  error?: string;
}

export interface ResourceStatus {
  resource: string;
  node: string;
  state: PromoterState;
  may_promote: boolean;
  role: string;
  quorum: boolean;
  primary_on: string | null;
  maintenance: boolean;
  disabled: boolean;
  /** Why the promoter leaves this resource alone (no split-brain avoidance), or null. */
  refused: string | null;
  evict: { to: string | null; until: number } | null;
  policy: SplitBrainPolicy;
  next_start_at: number | null;
  sleep: SleepTerms | null;
  last: Decided | null;
  decisions: number;
  starts: number;
  stops: number;
  failures: number;
}
