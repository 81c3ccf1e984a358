import { describe, expect, it } from 'vitest';
import { actorOf, createAuditThrottle } from './mqtt-audit-fns.js';

describe('audit throttle for broker events', () => {
  const make = (maxPerWindow = 100) => {
    let t = 1_000_000;
    const throttle = createAuditThrottle({
      perKeyMs: 60_000,
      windowMs: 60_000,
      maxPerWindow,
      now: () => t,
    });
    return { throttle, advance: (ms: number) => (t += ms) };
  };

  it('ok/one entry per key per minute; the next one counts what was held back', () => {
    const { throttle, advance } = make();
    expect(throttle.admit('connect:a')).toEqual({ record: true, heldBack: 0, heldOverall: 0 });
    expect(throttle.admit('connect:a')).toEqual({ record: false });
    advance(30_000);
    expect(throttle.admit('connect:a')).toEqual({ record: false });
    // heldOverall: held back across all keys since the last entry written.
    expect(throttle.admit('connect:b')).toEqual({ record: true, heldBack: 0, heldOverall: 2 });
    advance(30_000);
    expect(throttle.admit('connect:a')).toEqual({ record: true, heldBack: 2, heldOverall: 0 });
  });

  it('fail/a burst past the overall limit is held back, then summarised', () => {
    const { throttle, advance } = make(3);
    const admitted = ['a', 'b', 'c', 'd', 'e'].map((k) => throttle.admit(`connect:${k}`).record);
    expect(admitted).toEqual([true, true, true, false, false]);
    advance(60_000);
    expect(throttle.admit('connect:d')).toEqual({ record: true, heldBack: 1, heldOverall: 2 });
  });

  it('ok/actors: a device is itself, a tool is named by its client ID', () => {
    const base = { instanceId: 'i', hubId: 'h', certificateId: 'c', notAfter: '' };
    expect(actorOf({ ...base, kind: 'device', clientId: 'd1', subjectId: 'd1' })).toEqual({
      type: 'device',
      id: 'd1',
      name: 'd1',
    });
    expect(actorOf({ ...base, kind: 'tool', clientId: 'tool-x-1', subjectId: 't1' })).toEqual({
      type: 'system',
      id: 't1',
      name: 'mqtt tool tool-x-1',
    });
  });
});
