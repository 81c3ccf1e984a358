import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { checkOutboundAddress, parseAllowList } from './outbound-fns.js';
import { BadRequestError } from './errors.js';

export type Lookup = (host: string) => Promise<{ address: string; family: number }[]>;

const defaultLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

/** An address users asked for that the platform will not connect to. */
export class OutboundRefusedError extends BadRequestError {
  constructor(host: string, why: string) {
    super(`${host}: ${why}`, undefined, 'outbound-address-refused');
  }
}

/**
 * Resolves user-set hosts and refuses those in loopback, link-local or private ranges (unless
 * the operator allow-listed them) and the platform's own database. Callers connect to the
 * address returned, never to the name again, so a second DNS answer cannot slip past the check.
 */
export function createOutboundGuard(opts: {
  allowList: string;
  /** The database URL in force; its host and port are never reachable from user settings. */
  databaseUrl: string;
  lookup?: Lookup;
}) {
  const allow = parseAllowList(opts.allowList);
  const lookup = opts.lookup ?? defaultLookup;
  let db: Promise<{ address: string; port: number }[]> | undefined;

  function databaseEndpoints(): Promise<{ address: string; port: number }[]> {
    if (!/^postgres(ql)?:\/\//.test(opts.databaseUrl)) return Promise.resolve([]);
    db ??= (async () => {
      const u = new URL(opts.databaseUrl);
      const host = u.hostname.replace(/^\[|\]$/g, '') || 'localhost';
      const port = Number(u.port || 5432);
      const addrs = isIP(host) ? [{ address: host }] : await lookup(host).catch(() => []);
      return addrs.map((a) => ({ address: a.address, port }));
    })();
    return db;
  }

  return {
    /** The first permitted address of `host`; throws OutboundRefusedError otherwise. */
    async resolve(host: string, port: number): Promise<{ address: string; family: number }> {
      const bare = host.replace(/^\[|\]$/g, '');
      let addrs: { address: string; family: number }[];
      if (isIP(bare)) addrs = [{ address: bare, family: isIP(bare) }];
      else {
        try {
          addrs = await lookup(bare);
        } catch {
          throw new OutboundRefusedError(host, 'the name does not resolve');
        }
      }
      if (!addrs.length) throw new OutboundRefusedError(host, 'the name does not resolve');
      const protectedEndpoints = await databaseEndpoints();
      // Every address must pass: a name that resolves to one public and one private address
      // could otherwise be steered to the private one.
      for (const a of addrs) {
        const c = checkOutboundAddress(a.address, port, {
          allow,
          protected: protectedEndpoints,
        });
        if (!c.ok)
          throw new OutboundRefusedError(
            host,
            c.reason === 'database'
              ? "that is the platform's own database"
              : `${a.address} is a loopback, link-local or private address; the operator must allow-list it (outboundAllowList)`,
          );
      }
      return addrs[0]!;
    },
  };
}
export type OutboundGuard = ReturnType<typeof createOutboundGuard>;
