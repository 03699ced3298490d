// Entry point of the storeventd binary: the only module that imports the plugin list.
import plugins from "../plugins/all.ts";
import { main } from "./cli/main.ts";

process.exitCode = await main(process.argv.slice(2), plugins);
