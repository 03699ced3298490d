import { join } from "node:path";
import plugin from "./index.ts";
import { ISCSI_TABLE } from "./iscsi.ts";
import { describeParserPlugin } from "../../../test/helpers/parser-fixtures.ts";

describeParserPlugin(plugin, ISCSI_TABLE, join(import.meta.dir, "testdata"), " connection1:0: detected conn error (1020)");
