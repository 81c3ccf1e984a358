import { describe, expect, it } from 'vitest';
import { planDeviceSync } from './cloud-sync-fns.js';

const cert = (
  id: string,
  createdAt: string,
  notAfter = '2030-01-01T00:00:00Z',
  status = 'valid',
) => ({
  id,
  der: Buffer.from(id),
  issuerId: 'ca',
  createdAt,
  notAfter,
  status,
});
const now = new Date('2027-01-01T00:00:00Z');
const device = (over: Record<string, unknown> = {}) => ({
  id: 'd1',
  state: 'enrolled',
  currentCertId: 'c1',
  lastSeenAt: null as string | null,
  ...over,
});
const ids = (p: { keep: { id: string }[]; retire: { id: string }[] }) => ({
  keep: p.keep.map((c) => c.id),
  retire: p.retire.map((c) => c.id),
});

describe('planDeviceSync', () => {
  it('ok/an enrolled device keeps its current certificate', () => {
    const p = planDeviceSync({
      device: device(),
      certificates: [cert('c1', '2026-12-01T00:00:00Z')],
      activeOnHub: new Set(),
      now,
    });
    expect(p.revoked).toBe(false);
    expect(ids(p)).toEqual({ keep: ['c1'], retire: [] });
  });

  it('ok/after renewal both are kept until the device is seen since the new one', () => {
    const certificates = [cert('c1', '2026-10-01T00:00:00Z'), cert('c2', '2026-12-01T00:00:00Z')];
    const base = { certificates, activeOnHub: new Set(['c1']), now };
    const before = planDeviceSync({
      ...base,
      device: device({ state: 'renewed', currentCertId: 'c2', lastSeenAt: '2026-11-30T00:00:00Z' }),
    });
    expect(ids(before)).toEqual({ keep: ['c2', 'c1'], retire: [] });
    const after = planDeviceSync({
      ...base,
      activeOnHub: new Set(['c1', 'c2']),
      device: device({ state: 'renewed', currentCertId: 'c2', lastSeenAt: '2026-12-02T00:00:00Z' }),
    });
    expect(ids(after)).toEqual({ keep: ['c2'], retire: ['c1'] });
  });

  it('ok/an expired old certificate is retired without waiting', () => {
    const p = planDeviceSync({
      device: device({ currentCertId: 'c2' }),
      certificates: [
        cert('c1', '2026-01-01T00:00:00Z', '2026-12-31T00:00:00Z'),
        cert('c2', '2026-12-01T00:00:00Z'),
      ],
      activeOnHub: new Set(['c1']),
      now,
    });
    expect(ids(p)).toEqual({ keep: ['c2'], retire: ['c1'] });
  });

  it('ok/a revoked device is revoked on the hub; a registered one has nothing to sync', () => {
    expect(
      planDeviceSync({
        device: device({ state: 'revoked' }),
        certificates: [cert('c1', '2026-12-01T00:00:00Z', '2030-01-01T00:00:00Z', 'revoked')],
        activeOnHub: new Set(['c1']),
        now,
      }).revoked,
    ).toBe(true);
    expect(
      ids(
        planDeviceSync({
          device: device({ state: 'registered', currentCertId: null }),
          certificates: [],
          activeOnHub: new Set(),
          now,
        }),
      ),
    ).toEqual({ keep: [], retire: [] });
  });
});
