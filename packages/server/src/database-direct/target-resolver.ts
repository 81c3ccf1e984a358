import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { BadRequestError } from '../lib/errors.js';
import { OutboundRefusedError, type Lookup, type OutboundGuard } from '../lib/outbound-guard.js';
import {
  ownDatabaseCheck,
  parseConnectionUrl,
  type DatabaseEndpoint,
} from './database-direct-fns.js';
import type { DatabaseDirectType } from './database-direct-types.js';

/** Where the platform connects for a connection: the checked address, never the name again. */
export interface ResolvedTarget {
  host: string;
  address: string;
  port: number;
}

const defaultLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

/**
 * Resolves a connection's URL to the address the platform may connect to. The outbound guard
 * refuses loopback, link-local and private addresses the operator has not allow-listed; this
 * adds the database-level check of "the platform's own database" (the guard's own check is by
 * host and port only, which would forbid every other database on the same server).
 */
export function createTargetResolver(opts: {
  /** An outbound guard built without the platform database (this resolver checks that). */
  guard: OutboundGuard;
  /** The platform's database URL in force. */
  platformDatabaseUrl: string;
  lookup?: Lookup;
}) {
  const lookup = opts.lookup ?? defaultLookup;
  let platform: Promise<DatabaseEndpoint | undefined> | undefined;

  const addressesOf = async (host: string): Promise<string[]> =>
    isIP(host) ? [host] : (await lookup(host).catch(() => [])).map((a) => a.address);

  /** The platform's own PostgreSQL endpoint; undefined for SQLite (a file, not reachable). */
  function platformEndpoint(): Promise<DatabaseEndpoint | undefined> {
    platform ??= (async () => {
      if (!/^postgres(ql)?:\/\//.test(opts.platformDatabaseUrl)) return undefined;
      const u = new URL(opts.platformDatabaseUrl);
      const host = u.hostname.replace(/^\[|\]$/g, '') || 'localhost';
      return {
        addresses: await addressesOf(host),
        port: Number(u.port || 5432),
        database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
        username: u.username ? decodeURIComponent(u.username) : undefined,
      };
    })();
    return platform;
  }

  return {
    /**
     * Checks a connection's target and returns where to connect; throws a 400 problem
     * (validation-failed or outbound-address-refused) with the reason.
     */
    async resolve(t: {
      type: DatabaseDirectType;
      url: string;
      database: string;
      username?: string;
    }): Promise<ResolvedTarget> {
      const parsed = parseConnectionUrl(t.type, t.url);
      if (!parsed.ok)
        throw new BadRequestError(
          `url ${parsed.reason}`,
          { errors: [{ path: 'url', message: parsed.reason }] },
          'validation-failed',
        );
      const { host, port } = parsed;
      const resolved = await opts.guard.resolve(host, port);
      const own = ownDatabaseCheck(
        {
          addresses: [...new Set([resolved.address, ...(await addressesOf(host))])],
          port,
          database: t.database,
          username: t.username,
        },
        await platformEndpoint(),
      );
      if (!own.ok) throw new OutboundRefusedError(`${host}:${port}/${t.database}`, own.reason);
      return { host, address: resolved.address, port };
    },
  };
}
export type TargetResolver = ReturnType<typeof createTargetResolver>;
