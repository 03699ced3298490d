// node:tls, loaded at the first TLS connection: imported at start-up it costs every start of the
// daemon ~4 ms of CPU (and node:crypto with it), though most configurations never speak TLS.
import type * as Tls from "node:tls";

let lib: Promise<typeof Tls> | undefined;

export function tlsLib(): Promise<typeof Tls> {
  return (lib ??= import("node:tls"));
}
