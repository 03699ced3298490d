// A [[promoter]] snippet entry as `storeventd ctl` / drbd-reactorctl works with it: each resource's
// start list and on-drbd-demote-failure (evict, status, ls and edit's checks read these).

export interface PromoterSnippet {
  resources: Record<string, { start: string[]; "on-drbd-demote-failure"?: string }>;
}

export function readPromoterSnippet(entry: Record<string, unknown>): Record<string, unknown> {
  const resources: PromoterSnippet["resources"] = {};
  for (const [name, r] of Object.entries((entry.resources ?? {}) as Record<string, Record<string, unknown>>)) {
    resources[name] = {
      start: Array.isArray(r.start) ? r.start.map(String) : [],
      "on-drbd-demote-failure": typeof r["on-drbd-demote-failure"] === "string" ? r["on-drbd-demote-failure"] : undefined,
    };
  }
  return { resources } satisfies PromoterSnippet;
}
