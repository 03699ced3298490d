// hctlBeforeBlock() against the split("/") form it replaced, on real and edge-case devpaths.
import { describe, expect, test } from "bun:test";
import { hctlBeforeBlock, SCSI_ADDR } from "./scan.ts";

/** The former code: components, last "block" one (not the first), regex on the one before. */
function bySplit(devpath: string): string {
  const parts = devpath.split("/");
  const blockAt = parts.lastIndexOf("block");
  return blockAt > 0 && SCSI_ADDR.test(parts[blockAt - 1]!) ? parts[blockAt - 1]! : "";
}

describe("hctlBeforeBlock()", () => {
  test("real devpaths", () => {
    expect(hctlBeforeBlock("/devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:0/2:0:0:0/block/sda")).toBe("2:0:0:0");
    expect(hctlBeforeBlock("/devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:0/2:0:0:0/block/sda/sda1")).toBe("2:0:0:0");
    expect(hctlBeforeBlock("/devices/virtual/block/loop7")).toBe("");
    expect(hctlBeforeBlock("/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1")).toBe("");
  });

  test("same answer as split + lastIndexOf on edge cases", () => {
    const cases = [
      "", "/", "block", "/block", "block/sda", "1:2:3:4/block", "/1:2:3:4/block", "/1:2:3:4/block/", "1:2:3:4/block/x",
      "/a/1:2:3:4/blocks/x", "/a/1:2:3:4/xblock/x", "/a/1:2:3:4/block/sdb/block", "/a/1:2:3:4/block/x/5:6:7:8/block/y",
      "/a/5:6:7:8/block/y/block/z", "//block", "/a//block/sdc", "/1:2:3/block/sdd", "/x1:2:3:4/block/s", "/10:0:1:22/block/sde",
      "/a/1:2:3:4/block/b/block", "/block/block", "/1:2:3:4/block/block",
    ];
    for (const c of cases) expect([c, hctlBeforeBlock(c)]).toEqual([c, bySplit(c)]);
    // Random paths over a small alphabet that hits every boundary.
    const bits = ["/", "block", "1:2:3:4", "0", ":", "b", "lock", "/block/"];
    let seed = 7;
    for (let i = 0; i < 20000; i++) {
      let s = "";
      for (let j = (seed = (seed * 1103515245 + 12345) >>> 0) % 9; j > 0; j--) s += bits[(seed = (seed * 1103515245 + 12345) >>> 0) % bits.length];
      expect([s, hctlBeforeBlock(s)]).toEqual([s, bySplit(s)]);
    }
  });
});
