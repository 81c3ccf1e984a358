import { describe, expect, it } from 'vitest';
import { checkOutboundAddress, parseAllowList } from './outbound-fns.js';
import { createOutboundGuard } from './outbound-guard.js';

describe('checkOutboundAddress', () => {
  const none = parseAllowList('');
  const cases: [string, string, string | true][] = [
    ['ok/public IPv4', '93.184.216.34', true],
    ['ok/public IPv6', '2606:2800:220:1:248:1893:25c8:1946', true],
    ['fail/loopback', '127.0.0.1', 'forbidden-range'],
    ['fail/loopback elsewhere in 127/8', '127.5.6.7', 'forbidden-range'],
    ['fail/IPv6 loopback', '::1', 'forbidden-range'],
    ['fail/IPv4-mapped loopback', '::ffff:127.0.0.1', 'forbidden-range'],
    ['fail/link-local (metadata service)', '169.254.169.254', 'forbidden-range'],
    ['fail/private 10/8', '10.1.2.3', 'forbidden-range'],
    ['fail/private 172.16/12', '172.20.0.1', 'forbidden-range'],
    ['fail/private 192.168/16', '192.168.1.1', 'forbidden-range'],
    ['fail/unspecified', '0.0.0.0', 'forbidden-range'],
    ['fail/IPv6 unique local', 'fd00::1', 'forbidden-range'],
    ['fail/IPv6 link-local', 'fe80::1', 'forbidden-range'],
  ];
  for (const [name, address, want] of cases)
    it(name, () => {
      const r = checkOutboundAddress(address, 8883, { allow: none, protected: [] });
      expect(r.ok ? true : r.reason).toBe(want);
    });

  it('ok/allow-listed address and range', () => {
    const allow = parseAllowList('127.0.0.1, 10.0.0.0/8');
    expect(checkOutboundAddress('127.0.0.1', 1, { allow, protected: [] }).ok).toBe(true);
    expect(checkOutboundAddress('10.9.9.9', 1, { allow, protected: [] }).ok).toBe(true);
    expect(checkOutboundAddress('127.0.0.2', 1, { allow, protected: [] }).ok).toBe(false);
  });

  it('fail/the database stays refused even when allow-listed', () => {
    const allow = parseAllowList('127.0.0.1');
    const db = [{ address: '127.0.0.1', port: 5432 }];
    expect(checkOutboundAddress('127.0.0.1', 5432, { allow, protected: db })).toEqual({
      ok: false,
      reason: 'database',
    });
    expect(checkOutboundAddress('127.0.0.1', 8883, { allow, protected: db }).ok).toBe(true);
  });

  it('fail/a bad allow-list entry', () => {
    expect(() => parseAllowList('10.0.0.0/33')).toThrow(/prefix/);
    expect(() => parseAllowList('example.com')).toThrow(/not an IP/);
  });
});

describe('outbound guard', () => {
  const lookup = async (host: string) =>
    host === 'mixed.example'
      ? [
          { address: '93.184.216.34', family: 4 },
          { address: '10.0.0.5', family: 4 },
        ]
      : host === 'public.example'
        ? [{ address: '93.184.216.34', family: 4 }]
        : Promise.reject(new Error('ENOTFOUND'));
  const guard = createOutboundGuard({
    allowList: '',
    databaseUrl: 'postgres://u@127.0.0.1:5432/db',
    lookup,
  });

  it('ok/a public name resolves to its address', async () => {
    await expect(guard.resolve('public.example', 8883)).resolves.toEqual({
      address: '93.184.216.34',
      family: 4,
    });
  });
  it('fail/a name with one private address', async () => {
    await expect(guard.resolve('mixed.example', 8883)).rejects.toThrow(/10\.0\.0\.5/);
  });
  it('fail/a name that does not resolve', async () => {
    await expect(guard.resolve('nowhere.example', 8883)).rejects.toThrow(/does not resolve/);
  });
  it('fail/a loopback literal', async () => {
    await expect(guard.resolve('127.0.0.1', 8883)).rejects.toThrow(/allow-list/);
  });
});
