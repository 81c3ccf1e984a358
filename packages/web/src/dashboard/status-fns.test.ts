import { describe, expect, it } from 'vitest';
import { isReadiness, readinessTiles, SLOW_MS, type Readiness } from './status-fns';

const ready: Readiness = {
  status: 'ready',
  checks: {
    database: { ok: true, detail: 'sqlite answers' },
    keystore: { ok: true, detail: 'software: ok' },
  },
};

const colours = (tiles: ReturnType<typeof readinessTiles>) =>
  Object.fromEntries(tiles.map((t) => [t.key, t.colour]));

describe('readinessTiles', () => {
  it('ok/all green when ready and quick, in the dashboard order', () => {
    const tiles = readinessTiles({ kind: 'answered', status: 200, body: ready, elapsedMs: 12 });
    expect(tiles.map((t) => t.key)).toEqual(['keystore', 'backend', 'database']);
    expect(colours(tiles)).toEqual({ keystore: 'green', backend: 'green', database: 'green' });
    expect(tiles[2]!.detail).toBe('sqlite answers');
  });

  it('ok/slow answer makes the backend orange', () => {
    const tiles = readinessTiles({
      kind: 'answered',
      status: 200,
      body: ready,
      elapsedMs: SLOW_MS + 1,
    });
    expect(colours(tiles).backend).toBe('orange');
  });

  it('fail/database down: database red, backend orange (not ready), key store green', () => {
    const body: Readiness = {
      status: 'not-ready',
      checks: { ...ready.checks, database: { ok: false, detail: 'no answer within 2000 ms' } },
    };
    const tiles = readinessTiles({ kind: 'answered', status: 503, body, elapsedMs: 2010 });
    expect(colours(tiles)).toEqual({ keystore: 'green', backend: 'orange', database: 'red' });
    expect(tiles.find((t) => t.key === 'database')!.detail).toMatch(/no answer/);
  });

  it('fail/no answer: backend red, the rest unknown (gray), never green', () => {
    const tiles = readinessTiles({ kind: 'failed', message: 'The server could not be reached.' });
    expect(colours(tiles)).toEqual({ keystore: 'gray', backend: 'red', database: 'gray' });
  });

  it('ok/summary text always matches the colour', () => {
    const tiles = readinessTiles({ kind: 'failed', message: 'x' });
    for (const t of tiles) expect(t.summary.length).toBeGreaterThan(0);
  });
});

describe('isReadiness', () => {
  it('ok/the server body', () => expect(isReadiness(ready)).toBe(true));
  it('fail/a proxy page', () => expect(isReadiness('<html>')).toBe(false));
  it('fail/missing check', () =>
    expect(isReadiness({ status: 'ready', checks: { database: ready.checks.database } })).toBe(
      false,
    ));
});
