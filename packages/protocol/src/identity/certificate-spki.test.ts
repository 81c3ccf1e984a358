import { describe, expect, it } from 'vitest';
import { TAG, encodeTlv } from '../encoding/der.js';
import { p256Variants } from '../test-helpers/spki-variants.js';
import { selfSignedCertificate } from '../test-helpers/self-signed-cert.js';
import { testKey } from '../test-helpers/test-keys.js';
import { spkiFromCertificate } from './certificate-spki.js';

describe('spkiFromCertificate', () => {
  it.each(['P-256', 'P-384', 'RSA-2048'])(
    'ok/%s: the SPKI bytes as they appear in the certificate',
    (t) => {
      const { spki, privateKey } = testKey(`device-${t}`);
      expect(spkiFromCertificate(selfSignedCertificate(spki, privateKey))).toEqual({
        ok: true,
        spki,
      });
    },
  );

  it('ok/keeps a non-canonical key as it is (so the ID check can refuse it)', () => {
    const { spki, privateKey } = testKey('device-P-256');
    const odd = p256Variants(spki).find((v) => v.reason === 'compressed-point')!.spki;
    const r = spkiFromCertificate(selfSignedCertificate(odd, privateKey));
    expect(r.ok && r.spki.equals(odd)).toBe(true);
  });

  it.each([
    ['fail/not DER', Buffer.from('not a certificate')],
    ['fail/empty SEQUENCE', encodeTlv(TAG.sequence)],
    [
      'fail/too few fields',
      encodeTlv(TAG.sequence, encodeTlv(TAG.sequence, encodeTlv(TAG.integer, Buffer.from([1])))),
    ],
  ])('%s', (_name, der) => {
    expect(spkiFromCertificate(der)).toMatchObject({ ok: false, reason: 'bad-certificate' });
  });

  it('fail/BER length inside the certificate', () => {
    const { spki, privateKey } = testKey('device-P-256');
    const ber = Buffer.concat([Buffer.from([0x30, 0x81]), spki.subarray(1)]);
    expect(spkiFromCertificate(selfSignedCertificate(ber, privateKey))).toMatchObject({
      ok: false,
      reason: 'bad-certificate',
    });
  });

  it('fail/trailing bytes after the certificate', () => {
    const { spki, privateKey } = testKey('device-P-256');
    const cert = Buffer.concat([selfSignedCertificate(spki, privateKey), Buffer.from([0])]);
    expect(spkiFromCertificate(cert)).toMatchObject({ ok: false, reason: 'bad-certificate' });
  });

  it('fail/DER that only looks like a certificate', () => {
    const { spki } = testKey('device-P-256');
    const fake = encodeTlv(
      TAG.sequence,
      encodeTlv(TAG.sequence, ...Array.from({ length: 5 }, () => encodeTlv(TAG.null)), spki),
    );
    expect(spkiFromCertificate(fake)).toMatchObject({ ok: false, reason: 'bad-certificate' });
  });
});
