/**
 * The dashboard's device figures (W1), summed from the batches' counts as the server gives them
 * (GET /api/v1/batches). On the server, `enrolled` counts every device holding a valid
 * certificate, renewed ones included; `renewed` is that subset.
 */

export interface BatchCounts {
  devices: number;
  enrolled: number;
  renewed: number;
  expired: number;
  revoked: number;
}

export interface DeviceTotals extends BatchCounts {
  /** Registered IDs that have not enrolled yet. */
  waiting: number;
}

/** Sums the counts of every batch. */
export function deviceTotals(batches: { counts: BatchCounts }[]): DeviceTotals {
  const t = { devices: 0, enrolled: 0, renewed: 0, expired: 0, revoked: 0 };
  for (const { counts } of batches) {
    t.devices += counts.devices;
    t.enrolled += counts.enrolled;
    t.renewed += counts.renewed;
    t.expired += counts.expired;
    t.revoked += counts.revoked;
  }
  return { ...t, waiting: Math.max(0, t.devices - t.enrolled - t.expired - t.revoked) };
}

/** Donut segments that add up to the total (renewed devices are inside `enrolled`). */
export function deviceSegments(t: DeviceTotals): { name: string; value: number; color: string }[] {
  return [
    { name: 'Enrolled', value: t.enrolled, color: 'green.7' },
    { name: 'Not enrolled yet', value: t.waiting, color: 'gray.5' },
    { name: 'Revoked', value: t.revoked, color: 'red.7' },
    { name: 'Expired', value: t.expired, color: 'dark.4' },
  ].filter((s) => s.value > 0);
}
