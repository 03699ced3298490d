// Typed Services keys for what the core and plugins share.
export { serviceKey, type ServiceKey, type Services } from "../plugin-api.ts";
export { DRBD_MODEL_SERVICE } from "../drbd/service.ts";
export { INVENTORY_SERVICE } from "../devices/index.ts";
export { STORE_SERVICE, type EventStoreService } from "../store-api.ts";
export { FLEET_SERVICE, type FleetService } from "../fleet-api.ts";
export { PROMOTER_SERVICE, type ActionResult, type PromoterControl, type PromoterResourceReport } from "../promoter-api.ts";
export { DAEMON_STATUS_SERVICE } from "../fleet-api.ts";
