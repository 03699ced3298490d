// The one mountinfo parser (used by the device inventory and, through the plugin API, the fs parser).
import { describe, expect, test } from "bun:test";
import { parseMountinfo, unescapeMountField } from "./mountinfo.ts";

describe("parseMountinfo()", () => {
  test("parseMountinfo() undoes octal escapes and skips optional fields", () => {
    const text = "42 27 7:0 / /tmp/m\\040x\\011y rw,relatime shared:5 master:1 - ext4 /dev/loop0 rw\n" +
      "36 35 98:0 /mnt1 /mnt2 rw,noatime - ext3 /dev/root rw,errors=continue\nbroken line\n";
    expect(parseMountinfo(text)).toEqual([
      { majmin: "7:0", mount_point: "/tmp/m x\ty", fs_type: "ext4", source: "/dev/loop0" },
      { majmin: "98:0", mount_point: "/mnt2", fs_type: "ext3", source: "/dev/root" },
    ]);
    expect(unescapeMountField("a\\134b")).toBe("a\\b");
  });

  test("skips a line without the separator, its fields after it, or a major:minor", () => {
    expect(parseMountinfo("1 1 8:1 / /a rw shared:1 ext4 /dev/sda1 rw\n1 1 8:1 / /a rw - ext4\n1 1 x:y / /a rw - ext4 /dev/sda1 rw\n")).toEqual([]);
  });
});
