// The promoter's control routes, for the daemon's unix-socket HTTP API (the control server mounts
// promoterRoutes(handle) and falls through on undefined):
//   GET  /v1/promoter                         every managed resource (JSON: { resources: [...] })
//   GET  /v1/promoter/{res}                   one resource
//   POST /v1/promoter/{res}/evict[?to=NODE]   step down here (and favour NODE), see engine.evict()
//   POST /v1/promoter/{res}/disable[?now=1]   no promotion here; now: stop the services too
//   POST /v1/promoter/{res}/enable
//   POST /v1/promoter/{res}/maintenance?on=1|0
// Answers: 200 { ok, message } | 400 bad request | 404 unknown resource | 405 | 503 no [[promoter]].
import type { Services } from "../plugin-api.ts";
import { UnknownResource, type PromoterControl } from "./controller.ts";

const ACTIONS = new Set(["evict", "disable", "enable", "maintenance"]);

function json(status: number, body: unknown): Response {
  return new Response(`${JSON.stringify(body)}\n`, { status, headers: { "content-type": "application/json" } });
}

function flag(v: string | null): boolean | undefined {
  if (v === null) return undefined;
  if (["1", "true", "yes", "on", ""].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  return undefined;
}

export function promoterRoutes(handle: { services: Services }): (req: Request) => Promise<Response> | undefined {
  return (req) => {
    const url = new URL(req.url);
    const m = /^\/v1\/promoter(?:\/([^/]+)(?:\/([^/]+))?)?\/?$/.exec(url.pathname);
    if (!m) return undefined;
    return answer(req, url, m[1] === undefined ? undefined : decodeURIComponent(m[1]), m[2], handle.services);
  };
}

async function answer(req: Request, url: URL, res: string | undefined, action: string | undefined, services: Services): Promise<Response> {
  const ctl = services.get<PromoterControl>("promoter");
  if (!ctl) return json(503, { ok: false, error: "no [[promoter]] is configured in this daemon" });
  try {
    if (action === undefined) {
      if (req.method !== "GET") return json(405, { ok: false, error: `${req.method} not allowed; use GET` });
      const resources = await ctl.status(res);
      return json(200, { ok: true, resources });
    }
    if (!ACTIONS.has(action)) return json(404, { ok: false, error: `unknown action "${action}"; one of ${[...ACTIONS].join(", ")}` });
    if (req.method !== "POST") return json(405, { ok: false, error: `${req.method} not allowed; use POST` });
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
        if (on === undefined) return json(400, { ok: false, error: "maintenance needs ?on=1 or ?on=0" });
        return json(200, await ctl.maintenance(res!, on));
      }
    }
  } catch (e) {
    if (e instanceof UnknownResource) return json(404, { ok: false, error: e.message });
    return json(500, { ok: false, error: (e as Error).message });
  }
}
