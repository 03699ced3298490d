import { expect, test } from "bun:test";
import { parseDuration } from "./duration.ts";

test("parseDuration() reads units, compounds and bare seconds", () => {
  expect(parseDuration("250ms")).toBe(250);
  expect(parseDuration("5s")).toBe(5000);
  expect(parseDuration("1h30m")).toBe(5_400_000);
  expect(parseDuration("2")).toBe(2000);
  expect(parseDuration(60)).toBe(60_000);
});

test("parseDuration() rejects junk instead of guessing", () => {
  for (const bad of ["", "5x", "s5", "5s junk", "-1s", "1.s"]) expect(parseDuration(bad)).toBeUndefined();
});
