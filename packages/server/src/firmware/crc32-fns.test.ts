import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32-fns.js';

describe('crc32', () => {
  it('ok/the standard check value of "123456789" is 0xCBF43926', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
  it('ok/empty input', () => {
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
});
