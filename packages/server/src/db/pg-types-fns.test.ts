import { describe, expect, it } from 'vitest';
import { pgTypes, timestamptzToIso } from './pg-types-fns.js';

describe('timestamptzToIso', () => {
  it('ok/gives what Date gives for every form PostgreSQL writes in UTC', () => {
    for (const v of [
      '2026-11-26 04:40:52.123456+00',
      '2026-11-26 04:40:52.1239+00',
      '2026-11-26 04:40:52.999999+00',
      '2026-11-26 04:40:52.5+00',
      '2026-11-26 04:40:52.12+00',
      '2026-11-26 04:40:52+00',
      '1970-01-01 00:00:00.000001+00',
      '9999-12-31 23:59:59.999+00',
    ])
      expect(timestamptzToIso(v), v).toBe(new Date(v).toISOString());
  });

  it('ok/leaves other zones to Date', () => {
    expect(timestamptzToIso('2026-11-26 04:40:52.12+05:30')).toBe('2026-11-25T23:10:52.120Z');
    expect(timestamptzToIso('2026-11-26 04:40:52-07')).toBe('2026-11-26T11:40:52.000Z');
  });

  it('bad/infinity is refused as before', () => {
    expect(() => timestamptzToIso('infinity')).toThrow(RangeError);
  });
});

describe('pgTypes', () => {
  it('ok/int8 is a number, timestamps ISO strings, the same parser each time', () => {
    const types = pgTypes as unknown as { getTypeParser(oid: number): (v: string) => unknown };
    expect(types.getTypeParser(20)('42')).toBe(42);
    expect(types.getTypeParser(1184)('2026-11-26 04:40:52.5+00')).toBe('2026-11-26T04:40:52.500Z');
    expect(types.getTypeParser(1114)).toBe(types.getTypeParser(1114));
    expect(types.getTypeParser(1184)).toBe(types.getTypeParser(1184));
  });
});
