import { describe, expect, it } from 'vitest';
import { createOutboundGuard, type Lookup } from '../lib/outbound-guard.js';
import { createTargetResolver } from './target-resolver.js';

/** Names resolved by a fixed table, as DNS would answer them. */
const table: Record<string, string[]> = {
  'db.example.com': ['203.0.113.10'],
  'internal.example.com': ['10.0.0.5'],
  'mixed.example.com': ['203.0.113.11', '192.168.1.4'],
  'platform-db.example.com': ['198.51.100.7'],
};
const lookup: Lookup = async (h) => {
  const a = table[h];
  if (!a) throw new Error('ENOTFOUND');
  return a.map((address) => ({ address, family: 4 }));
};

const resolver = (
  allowList = '',
  platformDatabaseUrl = 'postgres://tl@platform-db.example.com:5432/trustlink',
) =>
  createTargetResolver({
    guard: createOutboundGuard({ allowList, databaseUrl: '', lookup }),
    platformDatabaseUrl,
    lookup,
  });

const pg = (url: string, database = 'data', username = 'writer') => ({
  type: 'postgresql' as const,
  url,
  database,
  username,
});

describe('target resolver', () => {
  it('ok/a public host name resolves to its address', async () =>
    expect(await resolver().resolve(pg('postgresql://db.example.com'))).toEqual({
      host: 'db.example.com',
      address: '203.0.113.10',
      port: 5432,
    }));
  it('ok/a private name the operator allow-listed', async () =>
    expect(
      (await resolver('10.0.0.0/8').resolve(pg('postgresql://internal.example.com:6432'))).address,
    ).toBe('10.0.0.5'));
  it('ok/another database on the platform server with its own login', async () =>
    expect(
      (await resolver().resolve(pg('postgresql://platform-db.example.com', 'data', 'writer')))
        .address,
    ).toBe('198.51.100.7'));
  it('ok/SQLite platform: nothing is "own"', async () =>
    expect(
      (
        await resolver('', 'sqlite:/tmp/x.db').resolve(
          pg('postgresql://platform-db.example.com', 'trustlink', 'tl'),
        )
      ).port,
    ).toBe(5432));

  const fail: [string, () => Promise<unknown>, RegExp][] = [
    [
      'fail/name resolving to a private address',
      () => resolver().resolve(pg('postgresql://internal.example.com')),
      /10\.0\.0\.5 is a loopback, link-local or private address/,
    ],
    [
      'fail/one of its addresses private',
      () => resolver().resolve(pg('postgresql://mixed.example.com')),
      /192\.168\.1\.4/,
    ],
    [
      'fail/name that does not resolve',
      () => resolver().resolve(pg('postgresql://nowhere.example.com')),
      /does not resolve/,
    ],
    [
      'fail/loopback literal',
      () => resolver().resolve(pg('postgresql://127.0.0.1')),
      /127\.0\.0\.1 is a loopback/,
    ],
    ['fail/link-local', () => resolver().resolve(pg('postgresql://169.254.169.254')), /link-local/],
    [
      'fail/the platform database by name',
      () => resolver().resolve(pg('postgresql://platform-db.example.com', 'trustlink')),
      /platform's own database/,
    ],
    [
      'fail/the platform login',
      () => resolver().resolve(pg('postgresql://198.51.100.7:5432', 'data', 'tl')),
      /platform's own login/,
    ],
    [
      'fail/bad URL',
      () => resolver().resolve(pg('postgresql://db.example.com/db')),
      /only a host and a port/,
    ],
  ];
  for (const [name, run, reason] of fail)
    it(name, async () => {
      await expect(run()).rejects.toThrow(reason);
    });
});
