import { join } from "node:path";
import plugin from "./index.ts";
import { ISCSI_TABLE } from "./iscsi.ts";
import { parserSuite } from "../../../test/helpers/parser-fixtures.ts";

parserSuite({ plugin, dir: import.meta.dir, patterns: ISCSI_TABLE.patterns, hostile: [" connection1:0: detected conn error (1020)"] });
