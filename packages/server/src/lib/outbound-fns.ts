import { BlockList, isIP } from 'node:net';

/**
 * Rules for addresses the platform connects to on a user's say-so (a Mosquitto host, a cloud
 * endpoint). Users could otherwise make the server probe its own network (SSRF): loopback,
 * link-local (cloud metadata services), private and other special ranges are refused unless
 * the operator allow-lists them, and the platform's own database is refused always.
 */

/** Ranges no user-set address may reach unless allow-listed. */
const SPECIAL_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const SPECIAL_V6: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
];

function specialRanges(): BlockList {
  const b = new BlockList();
  for (const [a, p] of SPECIAL_V4) b.addSubnet(a, p, 'ipv4');
  for (const [a, p] of SPECIAL_V6) b.addSubnet(a, p, 'ipv6');
  return b;
}
const SPECIAL = specialRanges();

/** An allow-list parsed from `outboundAllowList`; throws on an entry that is not an IP or CIDR. */
export function parseAllowList(text: string): BlockList {
  const b = new BlockList();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const [addr, bits, extra] = entry.split('/');
    const family = isIP(addr ?? '');
    if (!family || extra !== undefined) throw new Error(`"${entry}" is not an IP address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      b.addAddress(addr!, type);
      continue;
    }
    const prefix = Number(bits);
    if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128))
      throw new Error(`"${entry}" has a bad prefix length`);
    b.addSubnet(addr!, prefix, type);
  }
  return b;
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it carries. */
function unmap(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

export type OutboundCheck = { ok: true } | { ok: false; reason: 'forbidden-range' | 'database' };

/**
 * Whether the platform may connect to `address:port`. `protected` lists endpoints refused even
 * when allow-listed (the platform's own database).
 */
export function checkOutboundAddress(
  address: string,
  port: number,
  opts: { allow: BlockList; protected: { address: string; port: number }[] },
): OutboundCheck {
  const a = unmap(address);
  const type = isIP(a) === 6 ? 'ipv6' : 'ipv4';
  if (opts.protected.some((p) => unmap(p.address) === a && p.port === port))
    return { ok: false, reason: 'database' };
  if (SPECIAL.check(a, type) && !opts.allow.check(a, type))
    return { ok: false, reason: 'forbidden-range' };
  return { ok: true };
}

/** A host name or IP literal as users may write it in settings (no scheme, port or path). */
export const HOST_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[?[0-9A-Fa-f:.]+\]?$/;
