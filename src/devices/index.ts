// Device identity for events. This minimal directory knows only /dev paths; the udev work replaces
// it with the sysfs-backed inventory (ids, holders, mounts) behind the same DeviceDirectory interface.
import { existsSync } from "node:fs";
import type { DeviceDirectory, DeviceIdentity } from "../plugin-api.ts";

export function createDeviceDirectory(): DeviceDirectory {
  return {
    identify(name: string): DeviceIdentity {
      const dev = name.startsWith("/dev/") ? name.slice(5) : name;
      const path = `/dev/${dev}`;
      return { dev_name: dev, dev_path: /^[\w.-]+$/.test(dev) && existsSync(path) ? path : "", dev_wwid: "", owners: [] };
    },
  };
}
