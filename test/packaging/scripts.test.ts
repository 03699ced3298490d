// Every shell script packaging ships or runs passes shellcheck (bash for build and cluster
// scripts and the completion, POSIX sh for the Debian maintainer scripts).
import { describe, expect, test } from "bun:test";
import { sh } from "./helpers.ts";

const BASH = ["packaging/build.sh", "packaging/completion/storeventd", "test/cluster/base.sh", "test/cluster/cluster-up.sh", "test/cluster/cluster-down.sh"];
const POSIX = ["packaging/debian/postinst", "packaging/debian/prerm", "packaging/debian/postrm"];

describe("shell scripts", () => {
  test.each([...BASH.map((f) => ["bash", f]), ...POSIX.map((f) => ["sh", f])])("shellcheck -s %s %s", (shell, file) => {
    const r = sh(["shellcheck", "-s", shell!, file!]);
    expect(r.out + r.err).toBe("");
    expect(r.code).toBe(0);
  });
});
