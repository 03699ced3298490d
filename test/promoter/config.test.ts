// [[promoter]] config: drbd-reactor's keys and defaults load unchanged; invalid combinations are
// `check` errors naming the key, the reason and the line.
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import plugins from "../../plugins/all.ts";
import { Registry } from "../../src/registry.ts";
import { loadConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/config/issues.ts";
import { PromoterSchema, resolveResource } from "../../plugins/receiver/promoter/config.ts";

const registry = new Registry(plugins);

function errors(text: string): string[] {
  try {
    loadConfig({ registry, text, path: "drbd-reactor.toml" });
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.message.split("\n");
  }
}

describe("PromoterSchema", () => {
  test("defaults are drbd-reactor's", () => {
    const cfg = v.parse(PromoterSchema, { resources: { r0: { start: ["a.service", "b.service"] } } });
    const r = resolveResource("r0", cfg.resources.r0!);
    expect(r).toEqual({
      name: "r0", start: ["a.service", "b.service"], stop: ["b.service", "a.service"], runner: "systemd",
      "dependencies-as": "Requires", "target-as": "Requires", "on-drbd-demote-failure": "none", "secondary-force": true,
      "stop-services-on-exit": false, "sleep-before-promote-factor": 1, "preferred-nodes": [],
      "preferred-nodes-policy": "always", "on-quorum-loss": "shutdown", "on-disk-detach": "ignore",
      "fencing-promote-delay": 5, "adjust-resource-on-start": true, "on-stop-failure": undefined,
    });
    expect(cfg["unit-dir"]).toBe("/run/systemd/system");
    expect(cfg["retry-interval"]).toBe(20_000);
  });

  test("a drbd-reactor promoter snippet with every key loads with check rules", () => {
    const cfg = loadConfig({
      registry, path: "reactor.d/ha.toml", text: `
[[promoter]]
id = "legacy"
[promoter.resources."my-db"]
start = ["var-lib-db.mount", "ocf:heartbeat:IPaddr2 db_ip ip=10.43.7.223 cidr_netmask=16", "db.service"]
runner = "systemd"
dependencies-as = "Wants"
target-as = "BindsTo"
on-drbd-demote-failure = "reboot-immediate"
secondary-force = false
stop-services-on-exit = true
sleep-before-promote-factor = 2
preferred-nodes = ["alpha", "bravo", "charlie"]
preferred-nodes-policy = "start-only"
on-quorum-loss = "freeze"
on-disk-detach = "fail-over"
fencing-promote-delay = 7
adjust-resource-on-start = false
on-stop-failure = "echo deprecated"

[[promoter]]
[promoter.resources.web]
start = ["/usr/local/bin/web-up", "logger up"]
stop = ["logger down", "/usr/local/bin/web-down"]
runner = "shell"
`,
    });
    const inst = cfg.instances.filter((i) => i.plugin === "promoter");
    expect(inst.map((i) => [i.name, i.kind, i.line])).toEqual([["promoter[0]", "receiver", 2], ["promoter[1]", "receiver", 21]]);
    const opts = inst[0]!.options as v.InferOutput<typeof PromoterSchema>;
    expect(opts.resources["my-db"]!["on-quorum-loss"]).toBe("freeze");
    expect(opts.resources["my-db"]!["target-as"]).toBe("BindsTo");
  });

  test("invalid combinations are check errors with the reason and the line", () => {
    const errs = errors(`
[[promoter]]
[promoter.resources.a]
start = ["/bin/start-a"]
runner = "shell"
on-quorum-loss = "freeze"
[promoter.resources.b]
start = ["b.sh"]
runner = "shell"
on-drbd-demote-failure = "reboot"
[promoter.resources.c]
start = ["c.service", "c.service"]
[promoter.resources.d]
start = ["/srv/data"]
[promoter.resources.e]
start = ["myapp"]
[promoter.resources.f]
start = ["ocf:heartbeat:IPaddr2"]
[promoter.resources.g]
start = ["g.service"]
preferred-nodes = ["n1", "n2", "n1"]
[promoter.resources.h]
start = ["h.service"]
on-quorum-loss = "halt"
`);
    expect(errs).toEqual([
      `[[promoter]] #1 resources.a.on-quorum-loss: on-quorum-loss = "freeze" needs runner = "systemd": the shell runner cannot freeze services (drbd-reactor.toml:6)`,
      `[[promoter]] #1 resources.b.on-drbd-demote-failure: on-drbd-demote-failure is a systemd FailureAction: it needs runner = "systemd" (drbd-reactor.toml:10)`,
      `[[promoter]] #1 resources.c.start: "c.service" is listed twice (drbd-reactor.toml:12)`,
      `[[promoter]] #1 resources.d.start: "/srv/data" contains a "/"; name a mount unit as \`systemd-escape --path --suffix=mount PATH\` prints it (drbd-reactor.toml:14)`,
      `[[promoter]] #1 resources.e.start: "myapp" is not a systemd unit name with its suffix (.service, .mount, ...) (drbd-reactor.toml:16)`,
      `[[promoter]] #1 resources.f.start: "ocf:heartbeat:IPaddr2": an OCF entry is ocf:VENDOR:AGENT INSTANCE [k=v ...] (drbd-reactor.toml:18)`,
      `[[promoter]] #1 resources.g.preferred-nodes: a node is named twice (drbd-reactor.toml:21)`,
      `[[promoter]] #1 resources.h.on-quorum-loss: expected one of shutdown|freeze, got "halt" (drbd-reactor.toml:24)`,
    ]);
  });

  test("an unknown resource key is an error at its line", () => {
    const errs = errors(`[[promoter]]\n[promoter.resources.r0]\nstart = ["a.service"]\npreferred-node = ["x"]\n`);
    expect(errs).toEqual([`[[promoter]] #1 resources.r0.preferred-node: unknown key "preferred-node" (drbd-reactor.toml:4)`]);
  });
});
