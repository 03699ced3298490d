// The promoter's control routes, for the daemon's unix-socket HTTP API (the control server mounts
// promoterRoutes(handle) and falls through on undefined):
//   GET  /v1/promoter                         every managed resource (JSON: { resources: [...] })
//   GET  /v1/promoter/{res}                   one resource
//   POST /v1/promoter/{res}/evict[?to=NODE]   step down here (and favour NODE), see engine.evict()
//   POST /v1/promoter/{res}/disable[?now=1]   no promotion here; now: stop the services too
//   POST /v1/promoter/{res}/enable
//   POST /v1/promoter/{res}/maintenance?on=1|0
// Answers: 200 { ok: true, message } (GET: { ok: true, resources }); errors in the control API's
// shape { error: CODE, detail }: 400 bad_request | 404 not_found | 405 method_not_allowed |
// 503 no_promoter | 500 internal.
import type { RouteContribution, Services } from "../../../src/plugin-api.ts";
import { PROMOTER_SERVICE, UnknownResource, type PromoterControl } from "./controller.ts";

const ACTIONS = new Set(["evict", "disable", "enable", "maintenance"]);

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(`${JSON.stringify(body)}\n`, { status, headers: { "content-type": "application/json", connection: "close", ...headers } });
}

function error(status: number, code: string, detail: string): Response {
  return json(status, { error: code, detail }, status === 405 ? { allow: detail.endsWith("POST") ? "POST" : "GET" } : {});
}

function flag(v: string | null): boolean | undefined {
  if (v === null) return undefined;
  if (["1", "true", "yes", "on", ""].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  return undefined;
}

export const promoterRoute: RouteContribution = {
  prefix: "/v1/promoter",
  handle(req, services) {
    const url = new URL(req.url);
    const m = /^\/v1\/promoter(?:\/([^/]+)(?:\/([^/]+))?)?\/?$/.exec(url.pathname);
    if (!m) return undefined;
    return answer(req, url, m[1] === undefined ? undefined : decodeURIComponent(m[1]), m[2], services);
  },
};

async function answer(req: Request, url: URL, res: string | undefined, action: string | undefined, services: Services): Promise<Response> {
  const ctl = services.get(PROMOTER_SERVICE);
  if (!ctl) return error(503, "no_promoter", "no [[promoter]] is configured in this daemon");
  try {
    if (action === undefined) {
      if (req.method !== "GET") return error(405, "method_not_allowed", `${req.method} ${url.pathname}: use GET`);
      const resources = await ctl.status(res);
      return json(200, { ok: true, resources });
    }
    if (!ACTIONS.has(action)) return error(404, "not_found", `unknown action "${action}"; one of ${[...ACTIONS].join(", ")}`);
    if (req.method !== "POST") return error(405, "method_not_allowed", `${req.method} ${url.pathname}: use POST`);
    const q = url.searchParams;
    switch (action) {
      case "evict": {
        const to = q.get("to") || undefined;
        return json(200, await ctl.evict(res!, to));
      }
      case "disable": {
        const now = flag(q.get("now")) ?? false;
        return json(200, await ctl.disable(res!, now));
      }
      case "enable":
        return json(200, await ctl.enable(res!));
      default: {
        const on = flag(q.get("on"));
        if (on === undefined) return error(400, "bad_request", "maintenance needs ?on=1 or ?on=0");
        return json(200, await ctl.maintenance(res!, on));
      }
    }
  } catch (e) {
    if (e instanceof UnknownResource) return error(404, "not_found", e.message);
    return error(500, "internal", (e as Error).message);
  }
}
