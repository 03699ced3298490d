// For plugin tests only: the core pieces a test wires up around a plugin (pipeline, registry, config, logs, loop devices).
export { Pipeline } from "../pipeline.ts";
export { Registry } from "../registry.ts";
export { RootLog } from "../util/log.ts";
export { ServiceMap } from "../util/services.ts";
export { loadConfig } from "../config/load.ts";
export { createDeviceDirectory } from "../devices/index.ts";
export * from "../devices/test-devices.ts";
