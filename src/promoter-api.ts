// What the promoter offers the control API, the CLI and the nats heartbeat under PROMOTER_SERVICE.
import { serviceKey } from "./plugin-api.ts";
import type { ActionResult, ResourceReport } from "./promoter/controller.ts";

export type { ActionResult, ResourceReport };

export interface PromoterControl {
  status(res?: string): Promise<ResourceReport[]>;
  evict(res: string, to?: string): Promise<ActionResult>;
  disable(res: string, now: boolean): Promise<ActionResult>;
  enable(res: string): Promise<ActionResult>;
  maintenance(res: string, on: boolean): Promise<ActionResult>;
}

export const PROMOTER_SERVICE = serviceKey<PromoterControl>("promoter");
