import { describe, expect, it } from 'vitest';
import { crossedQuarters, renderProgress } from './upload-progress-fns.js';

describe('renderProgress', () => {
  it('ok/bar, percentage, MiB and rate', () => {
    expect(renderProgress(5 * 1024 ** 2, 10 * 1024 ** 2, 2000, 10)).toBe(
      '[#####.....]  50% 5.0/10.0 MiB 2.5 MiB/s',
    );
  });
  it('ok/never past 100 %, and an empty file is complete', () => {
    expect(renderProgress(20, 10, 0, 4)).toMatch(/^\[####\] 100%/);
    expect(renderProgress(0, 0, 0, 4)).toMatch(/^\[####\] 100%/);
  });
});

describe('crossedQuarters', () => {
  it('ok/each quarter once, however the bytes arrive', () => {
    expect(crossedQuarters(0, 10, 100)).toEqual([]);
    expect(crossedQuarters(10, 60, 100)).toEqual([25, 50]);
    expect(crossedQuarters(60, 100, 100)).toEqual([75, 100]);
    expect(crossedQuarters(100, 100, 100)).toEqual([]);
  });
});
