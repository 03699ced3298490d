// The multicast group syntax and a subscriber (the multicast receiver and its tests/listener).
export * from "../util/multicast-group.ts";
export * from "../multicast/subscribe.ts";
