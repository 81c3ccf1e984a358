import { describe, expect, it } from 'vitest';
import { deviceSegments, deviceTotals } from './device-fns';

const batch = (
  devices: number,
  enrolled: number,
  renewed: number,
  expired: number,
  revoked: number,
) => ({
  counts: { devices, enrolled, renewed, expired, revoked },
});

describe('deviceTotals', () => {
  it('ok/sums every batch and derives the devices not enrolled yet', () => {
    const t = deviceTotals([batch(10, 4, 1, 2, 1), batch(5, 5, 2, 0, 0)]);
    expect(t).toEqual({ devices: 15, enrolled: 9, renewed: 3, expired: 2, revoked: 1, waiting: 3 });
  });
  it('ok/no batches, all zero', () => {
    expect(deviceTotals([]).devices).toBe(0);
  });
});

describe('deviceSegments', () => {
  it('ok/segments add up to the total and skip zeros', () => {
    const t = deviceTotals([batch(15, 9, 3, 2, 0)]);
    const s = deviceSegments(t);
    expect(s.map((x) => x.name)).toEqual(['Enrolled', 'Not enrolled yet', 'Expired']);
    expect(s.reduce((n, x) => n + x.value, 0)).toBe(t.devices);
  });
});
