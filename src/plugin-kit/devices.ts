// The device inventory (sysfs scan, identities, holders, mounts) the udev sender keeps current.
export * from "../devices/index.ts";
