import { expect, test } from "bun:test";
import { RATE_WINDOW_MS, RootLog } from "./log.ts";

test("log.once is a per-key rate limit: one line a window, then the count of what was suppressed", () => {
  const lines: string[] = [];
  let now = 1000;
  const root = new RootLog({ write: (l) => void lines.push(l) }, () => now);
  root.sdPrefix = false;
  const log = root.child("store");
  log.once("write_failed", "cannot write /x: ENOSPC");
  for (let i = 0; i < 37; i++) log.once("write_failed", "cannot write /x: ENOSPC");
  log.once("other", "another kind is not suppressed by the first");
  expect(lines).toEqual(["warn: store: cannot write /x: ENOSPC\n", "warn: store: another kind is not suppressed by the first\n"]);
  now += RATE_WINDOW_MS - 1;
  log.once("write_failed", "still inside the window");
  expect(lines).toHaveLength(2);
  now += 1;
  log.once("write_failed", "cannot write /x: EIO");
  expect(lines[2]).toBe("warn: store: cannot write /x: EIO (38 similar messages suppressed in the last 60 s)\n");
  now += RATE_WINDOW_MS;
  log.once("write_failed", "a second failure a minute later is logged again");
  expect(lines[3]).toBe("warn: store: a second failure a minute later is logged again\n");
  // The same key in another scope (instance) has its own limit.
  root.child("store2").once("write_failed", "x");
  expect(lines).toHaveLength(5);
});
