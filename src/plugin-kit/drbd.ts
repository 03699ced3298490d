// The DRBD resource model plugins subscribe to (ctx.services.get(DRBD_MODEL_SERVICE)) and the events2 tokenizer.
export * from "../drbd/model.ts";
export * from "../drbd/events2.ts";
export { DRBD_MODEL_SERVICE } from "../drbd/service.ts";
export type { SubscriberOwner, SubscriberStats } from "../drbd/subscribers.ts";
export * from "../drbd/versions.ts";
