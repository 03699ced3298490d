// For contributed CLI commands: argument parsing and the default config path.
export { parse, UsageError } from "../cli/args.ts";
export { DEFAULT_CONFIG_PATH } from "../config/load.ts";
