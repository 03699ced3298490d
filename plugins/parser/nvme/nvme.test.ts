import { join } from "node:path";
import plugin from "./index.ts";
import { NVME_TABLE } from "./nvme.ts";
import { describeParserPlugin } from "../../../test/helpers/parser-fixtures.ts";

describeParserPlugin(plugin, NVME_TABLE, join(import.meta.dir, "testdata"),
  "nvme nvme0: I/O tag 18 (1012) opcode 0x2 (Read) QID 3 timeout, reset controller");
