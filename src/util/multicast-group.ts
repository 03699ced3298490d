// "239.0.0.77:6699" / "[ff05::77]:6699" -> { family, address, port }; shared by the multicast
// receiver and `storeventd monitor --multicast`. Pure.
import { netLib } from "./lazy-builtins.ts";

export interface MulticastGroup {
  family: 4 | 6;
  address: string;
  port: number;
}

/** The group, or an error string that names what is wrong. */
export function parseGroup(text: string): MulticastGroup | string {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) return `"${text}" is not ADDRESS:PORT (IPv6 as [ADDRESS]:PORT)`;
  const address = m[1]!;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `port ${m[2]} is not 1..65535`;
  if (netLib().isIPv4(address)) {
    const first = Number(address.split(".")[0]);
    if (first < 224 || first > 239) return `${address} is not an IPv4 multicast address (224.0.0.0/4)`;
    return { family: 4, address, port };
  }
  if (netLib().isIPv6(address)) {
    if (!/^ff[0-9a-f]{2}:/i.test(address)) return `${address} is not an IPv6 multicast address (ff00::/8)`;
    return { family: 6, address: address.toLowerCase(), port };
  }
  return `"${address}" is not an IP address`;
}
