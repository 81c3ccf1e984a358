import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deviceIdOf } from './device-id.js';

describe('device id', () => {
  it('ok/lowercase hex SHA-256 of the DER SPKI', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    expect(deviceIdOf(spki)).toBe(createHash('sha256').update(spki).digest('hex'));
    expect(deviceIdOf(spki)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ok/a compressed-point encoding of the same key yields the same ID', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const jwk = publicKey.export({ format: 'jwk' });
    const y = Buffer.from(jwk.y!, 'base64url');
    const compressed = Buffer.concat([
      Buffer.from([2 + (y[31]! & 1)]),
      Buffer.from(jwk.x!, 'base64url'),
    ]);
    // SPKI header of a P-256 key with a 33-byte point
    const header = Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex');
    const other = Buffer.concat([header, compressed]);
    expect(createPublicKey({ key: other, format: 'der', type: 'spki' }).asymmetricKeyType).toBe(
      'ec',
    );
    expect(deviceIdOf(other)).toBe(deviceIdOf(spki));
  });

  it('fail/a key type the protocol does not accept', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    expect(() => deviceIdOf(publicKey.export({ type: 'spki', format: 'der' }))).toThrow(
      /not one of/,
    );
  });
});
