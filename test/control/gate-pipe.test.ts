// The gate holds a connection's bytes back from Bun.serve while they may still be the start of a
// request (a slowloris crowd costs no upstream connection), and sends garbage up at once (Bun.serve
// answers it 400 on its first bytes).
import { expect, test } from "bun:test";
import { requestStart } from "../../src/control/gate-pipe.ts";

test("requestStart: a request line or a part of one holds; garbage does not", () => {
  for (const s of ["G", "GET", "GET ", "GET /v1/st", "POST /v1/reload HT", "GET /v1/status HTTP/1.1\r", "GET /v1/status HTTP/1.0\r\n", "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: aa"]) {
    expect([s, requestStart(s)]).toEqual([s, true]);
  }
  for (const s of ["\x00\x01\xffgarbage\r\n", "THIS IS NOT HTTP\r\n", "\x16\x03\x01", "get /", "GET  /", "GET /x HTTP/2.0\r\n", "GET /x FOO\r\n", "GET /x HTTP/1.1\n", "GET /x HTTP/1.1\rX"]) {
    expect([s, requestStart(s)]).toEqual([s, false]);
  }
});
