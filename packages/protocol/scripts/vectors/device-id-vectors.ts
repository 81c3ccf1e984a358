/** Device-ID vectors: accepted keys with their IDs, and encodings that must be refused. */
import { deviceIdFromSpki } from '../../src/identity/device-id.js';
import { p256Variants, rsaVariants } from '../../src/test-helpers/spki-variants.js';
import type { StoredKey } from './vector-keys.js';

export function deviceIdVectors(keys: Record<string, StoredKey>) {
  const spki = (name: string) => Buffer.from(keys[name]!.spkiHex, 'hex');
  const accepted = ['P-256', 'P-384', 'RSA-2048', 'RSA-3072'].map((t) => {
    const r = deviceIdFromSpki(spki(`device-${t}`));
    if (!r.ok) throw new Error(`device-${t}: ${r.detail}`);
    return {
      name: `ok/${t}`,
      keyType: t,
      spkiHex: spki(`device-${t}`).toString('hex'),
      deviceId: r.deviceId,
    };
  });
  const refused = [
    ...p256Variants(spki('device-P-256')).map((v) => ({ ...v, name: `fail/P-256 ${v.name}` })),
    ...rsaVariants(spki('device-RSA-2048')).map((v) => ({ ...v, name: `fail/RSA-2048 ${v.name}` })),
    { name: 'fail/secp256k1 curve', spki: spki('other-secp256k1'), reason: 'unsupported-curve' },
    { name: 'fail/P-521 curve', spki: spki('other-P-521'), reason: 'unsupported-curve' },
    { name: 'fail/RSA-1024', spki: spki('other-RSA-1024'), reason: 'unsupported-key-size' },
    { name: 'fail/RSA-4096', spki: spki('other-RSA-4096'), reason: 'unsupported-key-size' },
    { name: 'fail/Ed25519', spki: spki('other-Ed25519'), reason: 'unsupported-algorithm' },
    {
      name: 'fail/RSASSA-PSS key OID',
      spki: spki('other-RSA-PSS'),
      reason: 'unsupported-algorithm',
    },
  ].map((v) => {
    const r = deviceIdFromSpki(v.spki);
    if (r.ok || r.reason !== v.reason)
      throw new Error(`${v.name}: expected ${v.reason}, got ${r.ok ? 'ok' : r.reason}`);
    return { name: v.name, spkiHex: v.spki.toString('hex'), reason: v.reason };
  });
  return {
    description:
      'Device ID = lowercase hex SHA-256 of the canonical DER SubjectPublicKeyInfo. accepted: key and its ID. refused: encodings that must be refused, with the reason deviceIdFromSpki gives.',
    accepted,
    refused,
  };
}
