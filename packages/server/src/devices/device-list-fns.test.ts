import { describe, expect, it } from 'vitest';
import { checkDeviceList } from './device-list-fns.js';

const a = 'a'.repeat(64);
const b = 'b'.repeat(64);

describe('checkDeviceList', () => {
  it('ok/valid and upper case lowered', () => {
    expect(checkDeviceList([a, b.toUpperCase()])).toEqual({ ids: [a, b], problems: [] });
  });
  const bad: [string, unknown[], string][] = [
    ['fail/not a string', [a, 42], 'not a string'],
    ['fail/not hex', ['z'.repeat(64)], 'not hexadecimal'],
    ['fail/too short', ['abc'], 'wrong length: 3 hex digits, a device ID has 64'],
    ['fail/too long', [a + 'a'], 'wrong length: 65 hex digits, a device ID has 64'],
    ['fail/duplicate', [a, b, a.toUpperCase()], 'duplicate of entry 1'],
  ];
  for (const [name, list, reason] of bad) {
    it(name, () => {
      const r = checkDeviceList(list);
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]!.reason).toBe(reason);
      expect(r.problems[0]!.entry).toBe(list.length === 3 ? 3 : list.findIndex((x) => x !== a) + 1);
    });
  }
  it('ok/reports every problem, not just the first', () => {
    expect(checkDeviceList(['x', 1, 'y', a, a]).problems.map((p) => p.entry)).toEqual([1, 2, 3, 5]);
  });
});
