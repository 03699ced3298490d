import { expect, test } from "bun:test";
import { join } from "node:path";

// In a child: other tests in this process may have asked for the normal policy already.
test("normalJitPolicy: sets JavaScriptCore's normal policy (1) once, however often it is called", async () => {
  const child = `
    const calls = [];
    Bun.unsafe.setJITPolicy = (scale) => void calls.push(scale);
    const { normalJitPolicy } = await import(${JSON.stringify(join(import.meta.dir, "jit-policy.ts"))});
    normalJitPolicy();
    normalJitPolicy();
    console.log(JSON.stringify(calls));`;
  const p = Bun.spawn([process.execPath, "-e", child], { stdout: "pipe" });
  expect(JSON.parse(await new Response(p.stdout).text())).toEqual([1]);
  expect(await p.exited).toBe(0);
});
