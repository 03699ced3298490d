// Device identity for events: the sysfs-backed inventory (ids, holders, mounts) behind the
// DeviceDirectory interface. The udev sender keeps the same inventory current from uevents.
import { serviceKey, type DeviceDirectory } from "../plugin-api.ts";
import { DeviceInventory, type InventoryOptions } from "./inventory.ts";

export { DeviceInventory, mountsByDevice } from "./inventory.ts";
export type { ApplyResult, BlockDevice, InventoryFs, InventoryOptions, Mount } from "./inventory.ts";

/** The key under which the udev sender provides its live inventory (ctx.services). */
export const INVENTORY_SERVICE = serviceKey<DeviceInventory>("devices.inventory");

/** A directory backed by a DeviceInventory. identify()/mountOf() answer from memory: call scan()
 * once at start (the daemon does); get()/list()/resolve() scan first if nobody did (CLI use). */
export function createDeviceDirectory(opts: InventoryOptions = {}): DeviceDirectory & DeviceInventory {
  return new DeviceInventory(opts);
}
