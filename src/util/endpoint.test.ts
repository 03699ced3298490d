import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseHostPort, readOptionFile } from "./endpoint.ts";

test("parseHostPort() takes host, host:port and [v6]:port, with a default port", () => {
  expect(parseHostPort("mx.example", 587)).toEqual({ host: "mx.example", port: 587 });
  expect(parseHostPort("10.0.0.1:25", 587)).toEqual({ host: "10.0.0.1", port: 25 });
  expect(parseHostPort("[2001:db8::1]:6697", 6667)).toEqual({ host: "2001:db8::1", port: 6697 });
  expect(parseHostPort("[::1]", 6667)).toEqual({ host: "::1", port: 6667 });
});

test("parseHostPort() names what is wrong", () => {
  expect(parseHostPort("a b", 1)).toContain("HOST[:PORT]");
  expect(parseHostPort("2001:db8::1", 1)).toContain("HOST[:PORT]");
  expect(parseHostPort("h:0", 1)).toBe("port 0 is not 1..65535");
  expect(parseHostPort("h:65536", 1)).toBe("port 65536 is not 1..65535");
  expect(parseHostPort("", 1)).toContain("HOST[:PORT]");
});

test("readOptionFile() reads the file, passes undefined through, and names the option on errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "sevd-endpoint-"));
  try {
    writeFileSync(join(dir, "pw"), "secret\n");
    expect(readOptionFile(join(dir, "pw"), "password_file")).toBe("secret\n");
    expect(readOptionFile(undefined, "password_file")).toBeUndefined();
    expect(() => readOptionFile(join(dir, "absent"), "password_file")).toThrow(/^password_file: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
