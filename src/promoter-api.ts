// What the promoter receiver offers the control API, the CLI and the nats heartbeat under PROMOTER_SERVICE.
import { serviceKey } from "./plugin-api.ts";

export interface ActionResult {
  ok: boolean;
  message: string;
}

/** One managed resource's state; the promoter's report carries more fields (its README). */
export interface PromoterResourceReport {
  resource: string;
}

export interface PromoterControl {
  status(res?: string): Promise<PromoterResourceReport[]>;
  evict(res: string, to?: string): Promise<ActionResult>;
  disable(res: string, now: boolean): Promise<ActionResult>;
  enable(res: string): Promise<ActionResult>;
  maintenance(res: string, on: boolean): Promise<ActionResult>;
}

export const PROMOTER_SERVICE = serviceKey<PromoterControl>("promoter");
