// Node builtins that only some plugins and commands need (or need only later), loaded at their
// first use. Bun's ESM bundle hoists every `import ... from "node:net"` to the top of the binary, so
// a module that is itself loaded lazily would still load the builtin at every start: node:net alone
// cost ~2.6 ms of CPU per start, node:tls ~4 ms (with node:crypto). require() stays where it is.
import type * as Dgram from "node:dgram";
import type * as Dns from "node:dns/promises";
import type * as FsPromises from "node:fs/promises";
import type * as Net from "node:net";
import type * as Tls from "node:tls";

export const netLib = (): typeof Net => require("node:net");
export const tlsLib = (): typeof Tls => require("node:tls");
export const dgramLib = (): typeof Dgram => require("node:dgram");
export const dnsLib = (): typeof Dns => require("node:dns/promises");
/** node:fs/promises: the daemon's first asynchronous file write comes a second after start. */
export const fsPromisesLib = (): typeof FsPromises => require("node:fs/promises");
