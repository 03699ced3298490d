import { expect, test } from "bun:test";
import { join } from "node:path";

// The writer runs in a child whose stdout is a pipe we do not read until it is done (Bun gives a
// child a non-blocking pipe): the first writes go straight to the fd; once the pipe is full
// (EAGAIN) the rest goes to process.stdout, in order.
const CHILD = String.raw`
import { fdWriter } from ${JSON.stringify(join(import.meta.dir, "fd-writer.ts"))};
const w = fdWriter(1);
for (let i = 0; i < 40000; i++) w("line " + i + "\n");
process.stderr.write("queued\n");
`;

test("fdWriter: synchronous writes, then the process's stream once the fd refuses one; every line arrives, in order", async () => {
  const p = Bun.spawn([process.execPath, "-e", CHILD], { stdout: "pipe", stderr: "pipe" });
  const err = await new Response(p.stderr).text(); // the child got past its writes without blocking on us
  expect(err).toBe("queued\n");
  const out = await new Response(p.stdout).text();
  expect(await p.exited).toBe(0);
  const lines = out.trimEnd().split("\n");
  expect(lines).toHaveLength(40000);
  expect(lines.every((l, i) => l === `line ${i}`)).toBe(true);
});

test("fdWriter: the text goes out exactly as given (no newline added)", async () => {
  const p = Bun.spawn([process.execPath, "-e", `import { writeStdout } from ${JSON.stringify(join(import.meta.dir, "fd-writer.ts"))}; writeStdout("a\\n"); writeStdout("b");`], { stdout: "pipe" });
  expect(await new Response(p.stdout).text()).toBe("a\nb");
});

test("fdWriter.useStream: later text goes through the process's stream, after what was written before", async () => {
  const child = `import { fdWriter } from ${JSON.stringify(join(import.meta.dir, "fd-writer.ts"))};
    const w = fdWriter(1);
    w("sync\\n");
    const seen = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (s) => (seen.push(String(s)), write(s));
    w.useStream();
    w("queued\\n");
    process.stderr.write(JSON.stringify(seen));`;
  const p = Bun.spawn([process.execPath, "-e", child], { stdout: "pipe", stderr: "pipe" });
  expect(await new Response(p.stdout).text()).toBe("sync\nqueued\n");
  expect(JSON.parse(await new Response(p.stderr).text())).toEqual(["queued\n"]); // only the later text took the stream
  expect(await p.exited).toBe(0);
});
