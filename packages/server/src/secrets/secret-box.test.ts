import { describe, expect, it } from 'vitest';
import { generateMasterKey, makeRing } from './master-key.js';
import { createSecretBox, SealError } from './secret-box.js';

const ctx = { instanceId: 'i1', table: 'keys', row: 'k1', column: 'handle' };

describe('secret box', () => {
  const ring = makeRing([generateMasterKey()], 'test');
  const box = createSecretBox(() => ring);

  it('ok/round trip, with a fresh IV each time', () => {
    const a = box.seal(Buffer.from('secret'), ctx);
    const b = box.seal(Buffer.from('secret'), ctx);
    expect(a.equals(b)).toBe(false);
    expect(box.open(a, ctx).toString()).toBe('secret');
    expect(a.includes(Buffer.from('secret'))).toBe(false);
  });

  const moved: [string, Partial<typeof ctx>][] = [
    ['fail/another instance', { instanceId: 'i2' }],
    ['fail/another table', { table: 'hubs' }],
    ['fail/another row', { row: 'k2' }],
    ['fail/another column', { column: 'secret' }],
  ];
  for (const [name, change] of moved) {
    it(name, () => {
      const blob = box.seal(Buffer.from('secret'), ctx);
      expect(() => box.open(blob, { ...ctx, ...change })).toThrow(SealError);
    });
  }

  it('fail/altered ciphertext', () => {
    const blob = box.seal(Buffer.from('secret'), ctx);
    blob[blob.length - 1]! ^= 1;
    expect(() => box.open(blob, ctx)).toThrow(/failed authentication/);
  });

  it('fail/another master key', () => {
    const other = createSecretBox(() => makeRing([generateMasterKey()], 'other'));
    expect(() => other.open(box.seal(Buffer.from('x'), ctx), ctx)).toThrow(/does not have/);
  });

  it('ok/reload finds a key added by a rotation elsewhere', () => {
    const k1 = generateMasterKey();
    const k2 = generateMasterKey();
    let r = makeRing([k1], 'file');
    const reader = createSecretBox(
      () => r,
      () => {
        r = makeRing([k2, k1], 'file');
      },
    );
    const writer = createSecretBox(() => makeRing([k2], 'file'));
    expect(reader.open(writer.seal(Buffer.from('x'), ctx), ctx).toString()).toBe('x');
  });
});
