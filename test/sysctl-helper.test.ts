// The shared sysctl helper's bookkeeping: overlapping holders (in any order of release) leave the
// value the first one found, and a dead holder does not pin a value. On a stand-in /proc/sys: the
// real printk_devkmsg is held by other test runs meanwhile, which this test must not disturb.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquireSysctls } from "./helpers/sysctl.ts";

const root = mkdtempSync(join(tmpdir(), "sysctl-helper-"));
mkdirSync(join(root, "sys/kernel"), { recursive: true });
writeFileSync(join(root, "sys/kernel/printk_devkmsg"), "ratelimit\n");
process.env.STOREVENTD_PROC_SYS = join(root, "sys");
process.env.STOREVENTD_SYSCTL_DIR = join(root, "run");
afterAll(() => {
  delete process.env.STOREVENTD_PROC_SYS;
  delete process.env.STOREVENTD_SYSCTL_DIR;
  rmSync(root, { recursive: true, force: true });
});

const KEY = "kernel.printk_devkmsg";
const now = () => readFileSync(join(root, "sys/kernel/printk_devkmsg"), "utf8").trim();

test("overlapping holders: the last to leave restores what the first found", () => {
  const found = now();
  const other = found === "on" ? "ratelimit" : "on";
  const a = acquireSysctls({ [KEY]: other });
  expect(now()).toBe(other);
  const b = acquireSysctls({ [KEY]: other }); // a plain save/restore would save `other` here
  a(); // the first leaves first: b still needs it
  expect(now()).toBe(other);
  b();
  expect(now()).toBe(found);
  b(); // a second release is a no-op
  expect(now()).toBe(found);
});

test("a run that wants another value while one is held is refused, and changes nothing", () => {
  const found = now();
  const a = acquireSysctls({ [KEY]: "on" });
  try {
    expect(() => acquireSysctls({ [KEY]: "off" })).toThrow(/another test run holds it at "on"/);
    expect(now()).toBe("on");
  } finally {
    a();
  }
  expect(now()).toBe(found);
});

test("a holder that died without releasing is dropped at the next change", async () => {
  const found = now();
  const other = found === "on" ? "ratelimit" : "on";
  // a child process takes the sysctl and is killed before it gives it back
  const child = Bun.spawn(["bun", "-e", `
    const { acquireSysctls } = await import(${JSON.stringify(`${import.meta.dir}/helpers/sysctl.ts`)});
    acquireSysctls({ ${JSON.stringify(KEY)}: ${JSON.stringify(other)} });
    console.log("held");
    await Bun.sleep(60_000);
  `], { stdout: "pipe", env: { ...process.env, PATH: `${process.execPath.replace(/\/[^/]*$/, "")}:${process.env.PATH}` } });
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  expect(new TextDecoder().decode(value)).toContain("held");
  expect(now()).toBe(other);
  child.kill("SIGKILL");
  await child.exited;
  const mine = acquireSysctls({ [KEY]: other }); // finds the dead holder: its found value is kept
  mine();
  expect(now()).toBe(found);
});
