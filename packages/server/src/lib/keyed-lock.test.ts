import { describe, expect, it } from 'vitest';
import { createKeyedLock } from './keyed-lock.js';

describe('keyed lock', () => {
  it('ok/calls with one key run one after the other, other keys in parallel', async () => {
    const lock = createKeyedLock();
    const log: string[] = [];
    const step = (name: string, ms: number) =>
      new Promise<void>((r) =>
        setTimeout(() => {
          log.push(name);
          r();
        }, ms),
      );
    await Promise.all([
      lock('a', () => step('a1', 30)),
      lock('a', () => step('a2', 1)),
      lock('b', () => step('b1', 10)),
    ]);
    expect(log).toEqual(['b1', 'a1', 'a2']);
  });

  it('ok/a failure does not block the next call', async () => {
    const lock = createKeyedLock();
    await expect(lock('k', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await lock('k', async () => 7)).toBe(7);
  });
});
