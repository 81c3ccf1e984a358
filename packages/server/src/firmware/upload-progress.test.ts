import { describe, expect, it } from 'vitest';
import { PROGRESS_MIN_BYTES, uploadProgress } from './upload-progress.js';

const sink = (isTTY: boolean) => {
  const written: string[] = [];
  return { written, out: { isTTY, write: (s: string) => (written.push(s), true) } };
};

describe('uploadProgress', () => {
  const total = PROGRESS_MIN_BYTES * 2;
  it('ok/on a terminal: one bar redrawn in place, at most every 100 ms, ended by a newline', () => {
    const s = sink(true);
    let t = 0;
    const p = uploadProgress(total, s.out, () => t);
    for (let i = 0; i < 8; i++) {
      t += 60;
      p.add(total / 8);
    }
    p.done();
    expect(s.written.every((w) => w.startsWith('\r') || w === '\n')).toBe(true);
    expect(s.written.length).toBeLessThan(8);
    expect(s.written.at(-2)).toMatch(/100% 8\.0\/8\.0 MiB/);
    expect(s.written.at(-1)).toBe('\n');
  });
  it('ok/in a log: one line per quarter; small files print nothing', () => {
    const s = sink(false);
    const p = uploadProgress(total, s.out, () => 0);
    for (let i = 0; i < 100; i++) p.add(total / 100);
    p.done();
    expect(s.written).toEqual([
      'uploaded 25% (2.0/8.0 MiB)\n',
      'uploaded 50% (4.0/8.0 MiB)\n',
      'uploaded 75% (6.0/8.0 MiB)\n',
      'uploaded 100% (8.0/8.0 MiB)\n',
    ]);
    const small = sink(false);
    const q = uploadProgress(PROGRESS_MIN_BYTES - 1, small.out);
    q.add(PROGRESS_MIN_BYTES - 1);
    expect(small.written).toEqual([]);
  });
});
