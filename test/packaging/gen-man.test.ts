import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { pluginSection, roff, section } from "../../packaging/gen-man.ts";
import plugins from "../../plugins/all.ts";
import { definePlugin, type AnyPluginDef } from "../../src/plugin-api.ts";
import { sh } from "./helpers.ts";

const demo = definePlugin({
  kind: "receiver",
  name: "demo",
  description: "Sends events to a demo sink.\nSecond line.",
  schema: v.strictObject({
    path: v.pipe(v.string(), v.description("Where to write; - means stdout.")),
    flush: v.optional(v.pipe(v.string(), v.description("How often to flush, e.g. \"5s\".")), "5s"),
    max: v.optional(v.pipe(v.number(), v.integer(), v.description(".dot-leading text")), 1000),
    mode: v.pipe(v.optional(v.picklist(["append", "truncate"]), "append"), v.description("File open mode.")),
    tags: v.optional(v.array(v.string()), []),
  }),
  create: () => ({ send: () => {} }) as never,
}) as unknown as AnyPluginDef;

describe("pluginSection()", () => {
  test("one subsection per plugin, each option with type, default and description", () => {
    expect(pluginSection([demo])).toBe([
      ".SH PLUGIN OPTIONS",
      "Generated from each plugin's schema.",
      "Options without a default are required.",
      '.SS "receiver demo"',
      "Sends events to a demo sink. Second line.",
      ".TP", "\\fBpath\\fR (string)", "Where to write; \\- means stdout.",
      ".TP", '\\fBflush\\fR (string, default "5s")', 'How often to flush, e.g. "5s".',
      ".TP", "\\fBmax\\fR (integer, default 1000)", "\\&.dot\\-leading text",
      ".TP", '\\fBmode\\fR ("append" | "truncate", default "append")', "File open mode.",
      ".TP", "\\fBtags\\fR (array of string, default [])", "(undocumented)",
      "",
    ].join("\n"));
  });

  test("renders without groff warnings inside a man page", () => {
    const dir = mkdtempSync(join(tmpdir(), "genman-"));
    try {
      const page = join(dir, "t.5");
      writeFileSync(page, `.TH T 5\n.SH NAME\nt \\- test\n${pluginSection([demo, ...plugins])}`);
      const r = sh(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", page], { env: { MANWIDTH: "80" } });
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("covers every plugin of this build", () => {
    const text = pluginSection(plugins);
    for (const p of plugins) expect(text).toContain(`.SS "${p.kind} ${p.name}"`);
    if (plugins.length === 0) expect(text).toContain("no plugins");
  });

  test("the core sections come from the core schemas: durations, one-or-many filters, queue defaults", () => {
    expect(section("main")).toContain('\\fBdedup_window\\fR (duration, default "5s")');
    expect(section("filter")).toContain('\\fBseverity\\fR ("info" | "warn" | "error", or an array)');
    expect(section("queue")).toContain('\\fBwhen_full\\fR ("drop_oldest" | "drop_newest", default "drop_oldest")');
    expect(() => section("nope")).toThrow(/unknown section/);
  });

  test("roff() escapes backslashes, hyphens, leading control characters and newlines", () => {
    expect(roff("a\\b-c")).toBe("a\\eb\\-c");
    expect(roff("'quoted")).toBe("\\&'quoted");
    expect(roff("one\n  two")).toBe("one two");
  });
});
