import { join } from "node:path";
import plugin from "./index.ts";
import { NVME_TABLE } from "./nvme.ts";
import { parserSuite } from "../../../test/helpers/parser-fixtures.ts";

parserSuite({ plugin, dir: import.meta.dir, patterns: NVME_TABLE.patterns, hostile: ["nvme nvme0: I/O tag 18 (1012) opcode 0x2 (Read) QID 3 timeout, reset controller"] });
