import { describe, expect, it } from 'vitest';
import { toBase64url } from '../encoding/base64url.js';
import { ecdsaDerToRaw, nodeKeySigner } from '../identity/signatures.js';
import { testKey } from '../test-helpers/test-keys.js';
import { jwsAlgOfKeyType, signJws, verifyJws } from './jws-compact.js';

const typ = 'test+jws';
const payload = { hello: 'world', n: 1 };
const signerOf = (name: string) => nodeKeySigner(testKey(name).privateKey);
const b64 = (v: unknown) => toBase64url(Buffer.from(JSON.stringify(v)));

describe('signJws / verifyJws', () => {
  it.each([
    ['signing-P-256', 'ES256'],
    ['signing-P-384', 'ES384'],
    ['signing-RSA-3072', 'PS256'],
  ])('ok/%s signs %s and verifies', async (name, alg) => {
    const jws = await signJws(payload, { kid: 'k1', typ, signer: signerOf(name) });
    const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as unknown;
    expect(header).toEqual({ alg, kid: 'k1', typ });
    expect(verifyJws(jws, { publicKeySpki: testKey(name).spki, typ, kid: 'k1' })).toMatchObject({
      ok: true,
      payload,
      header: { alg, kid: 'k1', typ },
    });
  });

  it('ok/ECDSA signatures are JOSE r||s of fixed size', async () => {
    const jws = await signJws(payload, { kid: 'k1', typ, signer: signerOf('signing-P-384') });
    expect(Buffer.from(jws.split('.')[2]!, 'base64url')).toHaveLength(96);
  });

  it('fail/RSA-2048 may not sign', async () => {
    await expect(
      signJws(payload, { kid: 'k', typ, signer: signerOf('device-RSA-2048') }),
    ).rejects.toThrow(/cannot sign/);
    expect(jwsAlgOfKeyType('RSA-2048')).toBeUndefined();
  });

  it('fail/bad kid', async () => {
    await expect(
      signJws(payload, { kid: 'a b', typ, signer: signerOf('signing-P-256') }),
    ).rejects.toThrow(/kid/);
  });

  describe('refusals', async () => {
    const spki = testKey('signing-P-256').spki;
    const good = await signJws(payload, { kid: 'k1', typ, signer: signerOf('signing-P-256') });
    const [h, p, s] = good.split('.') as [string, string, string];
    const es384 = await signJws(payload, { kid: 'k1', typ, signer: signerOf('signing-P-384') });
    const cases: [string, string, Partial<{ spki: Buffer; typ: string; kid: string }>, string][] = [
      ['fail/two parts', `${h}.${p}`, {}, 'malformed'],
      ['fail/empty signature', `${h}.${p}.`, {}, 'malformed'],
      ['fail/padded part', `${h}.${p}=.${s}`, {}, 'malformed'],
      ['fail/too long', `${h}.${'A'.repeat(20000)}.${s}`, {}, 'malformed'],
      ['fail/header not JSON', `${toBase64url(Buffer.from('{'))}.${p}.${s}`, {}, 'bad-header'],
      ['fail/alg none', `${b64({ alg: 'none', kid: 'k1', typ })}.${p}.${s}`, {}, 'bad-header'],
      ['fail/alg HS256', `${b64({ alg: 'HS256', kid: 'k1', typ })}.${p}.${s}`, {}, 'bad-header'],
      [
        'fail/extra header member',
        `${b64({ alg: 'ES256', kid: 'k1', typ, crit: ['x'] })}.${p}.${s}`,
        {},
        'bad-header',
      ],
      ['fail/missing kid', `${b64({ alg: 'ES256', typ })}.${p}.${s}`, {}, 'bad-header'],
      ['fail/other typ', good, { typ: 'other+jws' }, 'wrong-type'],
      [
        'fail/verification key refused',
        good,
        { spki: testKey('device-RSA-2048').spki },
        'unsupported-key',
      ],
      [
        'fail/verification key not canonical',
        good,
        { spki: Buffer.concat([spki, Buffer.from([0])]) },
        'unsupported-key',
      ],
      ['fail/header alg of another key type', es384, {}, 'alg-mismatch'],
      [
        'fail/PS256 header for an EC key',
        `${b64({ alg: 'PS256', kid: 'k1', typ })}.${p}.${s}`,
        {},
        'alg-mismatch',
      ],
      ['fail/other kid', good, { kid: 'k2' }, 'wrong-kid'],
      [
        'fail/signature of another key',
        good,
        { spki: testKey('device-P-256').spki },
        'bad-signature',
      ],
      ['fail/payload changed', `${h}.${b64({ hello: 'there', n: 1 })}.${s}`, {}, 'bad-signature'],
      [
        'fail/DER signature instead of r||s',
        `${h}.${p}.${toBase64url(Buffer.concat([Buffer.from('3044', 'hex'), Buffer.alloc(68)]))}`,
        {},
        'bad-signature',
      ],
    ];
    it.each(cases)('%s', (_name, jws, o, reason) => {
      const r = verifyJws(jws, {
        publicKeySpki: o.spki ?? spki,
        typ: o.typ ?? typ,
        ...(o.kid ? { kid: o.kid } : {}),
      });
      expect(r).toMatchObject({ ok: false, reason });
    });

    it('fail/signed payload that is not JSON', async () => {
      const signer = signerOf('signing-P-256');
      const hb = b64({ alg: 'ES256', kid: 'k1', typ });
      const pb = toBase64url(Buffer.from([0xff, 0xfe]));
      const der = await signer.sign(Buffer.from(`${hb}.${pb}`), 'ecdsa-sha256');
      const jws = `${hb}.${pb}.${toBase64url(ecdsaDerToRaw(der, 'P-256'))}`;
      expect(verifyJws(jws, { publicKeySpki: spki, typ })).toMatchObject({
        ok: false,
        reason: 'bad-payload',
      });
    });
  });
});
