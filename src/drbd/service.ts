// The Services key under which the pipeline offers the DRBD resource model to plugins.
import { serviceKey } from "../plugin-api.ts";
import type { DrbdModel } from "./model.ts";

export const DRBD_MODEL_SERVICE = serviceKey<DrbdModel>("drbd.model");
