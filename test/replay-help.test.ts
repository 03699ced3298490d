// `replay --help` lists the inputs the registered senders contribute (ReplayInput.help), in their
// order, with events2 as the core's own entry until a sender contributes it.
import { expect, test } from "bun:test";
import plugins from "../plugins/all.ts";
import type { AnyPluginDef } from "../src/plugin-api.ts";
import { replayHelp } from "../src/cli/replay.ts";

const usage = (h: string) => h.split("\n")[0];
const input = (h: string) => h.slice(h.indexOf("Input:\n") + 7, h.indexOf("\n\nOptions:"));

test("this build: kmsg, uevent, events2, journal, each FILE described by its sender", () => {
  const h = replayHelp(plugins);
  expect(usage(h)).toBe("Usage: storeventd replay (--kmsg FILE | --uevent FILE | --events2 FILE | --journal FILE) [options]");
  expect(input(h).split("\n").filter((l) => l.startsWith("  --"))).toEqual([
    `  --kmsg FILE      a kernel log: raw /dev/kmsg records ("6,1234,5678,-;msg" with " KEY=value"`,
    `  --uevent FILE    uevents as "udevadm monitor --kernel --property" prints them, or raw`,
    `  --events2 FILE   "drbdsetup events2 --full" output`,
    `  --journal FILE   journal entries as "journalctl -o export" or "journalctl -o json" print them;`,
  ]);
  expect(input(h)).toContain(`raw\n                   NUL-separated netlink captures\n`);
});

test("a build without the journal sender does not offer --journal; a new sender's input takes its place", () => {
  const fake = { kind: "sender", name: "zz", replay: { input: "zz", decode: () => [], help: { order: 25, text: "zz lines\nin two" } } } as unknown as AnyPluginDef;
  const h = replayHelp([...plugins.filter((d) => d.name !== "journal"), fake]);
  expect(usage(h)).toBe("Usage: storeventd replay (--kmsg FILE | --uevent FILE | --zz FILE | --events2 FILE) [options]");
  expect(input(h)).toContain(`  --zz FILE        zz lines\n                   in two\n  --events2 FILE   "drbdsetup events2 --full" output`);
  expect(input(h)).not.toContain("--journal");
});
