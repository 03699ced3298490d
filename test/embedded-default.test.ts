// The embedded default config (SPEC §3) as the real plugins contribute it (PluginDef.embeddedDefault):
// kmsg + udev senders, the journal sender when a journal exists, the DRBD source with drbdsetup,
// the store, and the journal when journald runs, else stdout.
import { expect, test } from "bun:test";
import plugins from "../plugins/all.ts";
import { Registry } from "../src/registry.ts";
import { embeddedDefault } from "../src/config/default.ts";

const registry = new Registry(plugins);

test("every host: the sections in SPEC order, one output", () => {
  expect(embeddedDefault(registry, { journald: true, journal: true, drbdsetup: true })).toBe(
    `# storeventd embedded default\n[main]\n[kmsg]\ntype = "sender"\n[udev]\ntype = "sender"\n` +
      `[storage_daemons]\ntype = "sender"\nplugin = "journal"\n[drbd]\ntype = "sender"\n[store]\ntype = "receiver"\n` +
      `[journal]\ntype = "receiver"\nplugin = "journald"\n`,
  );
  expect(embeddedDefault(registry, { journald: false, journal: false, drbdsetup: false })).toBe(
    `# storeventd embedded default\n[main]\n[kmsg]\ntype = "sender"\n[udev]\ntype = "sender"\n[store]\ntype = "receiver"\n[stdout]\ntype = "receiver"\n`,
  );
  // A journal on disk without journald: read it, but print to stdout.
  expect(embeddedDefault(registry, { journald: false, journal: true, drbdsetup: false })).toContain(`[storage_daemons]\ntype = "sender"\nplugin = "journal"\n[store]\ntype = "receiver"\n[stdout]\n`);
});

test("a build without a plugin still starts: its section is left out, the output falls back", () => {
  const without = new Registry(plugins.filter((d) => !(d.kind === "receiver" && d.name === "journald")));
  expect(embeddedDefault(without, { journald: true, journal: true, drbdsetup: false })).toEndWith(`[store]\ntype = "receiver"\n[stdout]\ntype = "receiver"\n`);
});
