import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyStore } from '../keystore/keystore-types.js';
import {
  appendEsp32SecureBootV2Signature,
  signEsp32SecureBootV2,
  verifyEsp32SecureBootV2,
} from './esp32-sbv2-fns.js';
import { esp32KeyDigest } from './esp32-sbv2-key-fns.js';
import { KEY_OFFSET, RSA_KEY_SIZE, SECTOR_SIZE, SIG_BLOCK_SIZE } from './esp32-sbv2-layout.js';
import { keyStoreSigner } from './firmware-signer.js';
import {
  app,
  blockOf,
  expectSameAsReference,
  fixCrc,
  flip,
  sha256,
  spkiOf,
  vectors,
  type Vector,
} from './test-helpers/esp32-vectors.js';
import { nodeKeySigner, openTestKeyStore } from './test-helpers/test-signers.js';

describe('ESP32 Secure Boot V2 against Espressif reference vectors', () => {
  for (const v of vectors) {
    it(`ok/${v.keyType}: eFuse key digest equals espsecure's, from public or private key`, () => {
      expect(esp32KeyDigest(v.spki).equals(v.efuseDigest)).toBe(true);
      expect(esp32KeyDigest(spkiOf(v.privateKey)).equals(v.efuseDigest)).toBe(true);
    });

    it(`ok/${v.keyType}: espsecure's signed image verifies`, () => {
      const r = verifyEsp32SecureBootV2(v.reference, { trustedKeyDigests: [v.efuseDigest] });
      expect(r).toMatchObject({ ok: true, imageLength: v.reference.length - SECTOR_SIZE });
      if (!r.ok) return;
      const padded = v.reference.subarray(0, r.imageLength);
      expect(padded.subarray(0, app.length).equals(app)).toBe(true);
      expect(r.digests).toEqual([sha256(padded)]);
      expect(r.keyDigests).toEqual([v.efuseDigest]);
      expect(r.keyTypes).toEqual([v.keyType]);
    });

    it(`ok/${v.keyType}: our signature of app.bin matches espsecure's output and verifies`, async () => {
      const ours = await signEsp32SecureBootV2(app, nodeKeySigner(v.privateKey), v.spki, v.keyType);
      expectSameAsReference(ours, v);
      const r = verifyEsp32SecureBootV2(ours, { trustedKeyDigests: [v.efuseDigest] });
      expect(r).toMatchObject({ ok: true, keyDigests: [v.efuseDigest] });
    });
  }
});

describe('ESP32 Secure Boot V2 through the software key store', () => {
  let ks: { keystore: KeyStore; instanceId: string; close(): Promise<void> };
  beforeAll(async () => {
    ks = await openTestKeyStore();
  });
  afterAll(async () => ks.close());

  for (const v of vectors) {
    it(`ok/${v.keyType}: the test key imported into the key store signs like espsecure`, async () => {
      const key = await ks.keystore.import(ks.instanceId, {
        pkcs8Der: v.privateKey.export({ type: 'pkcs8', format: 'der' }),
        label: `esp32 ${v.name}`,
        purpose: 'signing',
      });
      const signer = keyStoreSigner(ks.keystore, ks.instanceId, key.id);
      const ours = await signEsp32SecureBootV2(app, signer, key.publicKeyDer, v.keyType);
      expectSameAsReference(ours, v);
      expect(verifyEsp32SecureBootV2(ours, { trustedKeyDigests: [v.efuseDigest] }).ok).toBe(true);
    });

    it(`ok/${v.keyType}: a key generated in the key store signs a sector-aligned image`, async () => {
      const key = await ks.keystore.generate(ks.instanceId, {
        algorithm: v.keyType,
        label: `esp32 new ${v.name}`,
        purpose: 'signing',
      });
      const image = Buffer.alloc(2 * SECTOR_SIZE, 0x5a);
      const signer = keyStoreSigner(ks.keystore, ks.instanceId, key.id);
      const signed = await signEsp32SecureBootV2(image, signer, key.publicKeyDer, v.keyType);
      expect(signed.length).toBe(3 * SECTOR_SIZE);
      const digest = esp32KeyDigest(key.publicKeyDer);
      expect(verifyEsp32SecureBootV2(signed, { trustedKeyDigests: [digest] })).toMatchObject({
        ok: true,
        keyDigests: [digest],
        digests: [sha256(image)],
      });
    });
  }
});

describe('ESP32 Secure Boot V2 signature blocks', () => {
  const [rsa, p256] = vectors as [Vector, Vector];

  it("ok/a second key is appended after espsecure's block, which stays untouched", async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
    const signed = await appendEsp32SecureBootV2Signature(
      rsa.reference,
      nodeKeySigner(other),
      spkiOf(other),
      'RSA-3072',
    );
    expect(blockOf(signed, 0).equals(blockOf(rsa.reference, 0))).toBe(true);
    const r = verifyEsp32SecureBootV2(signed, {
      trustedKeyDigests: [esp32KeyDigest(spkiOf(other))],
    });
    expect(r).toMatchObject({ ok: true });
    if (r.ok) expect(r.keyDigests).toEqual([rsa.efuseDigest, esp32KeyDigest(spkiOf(other))]);
  });

  const tamper: Array<{ name: string; v: Vector; change: (s: Buffer) => void; reason: RegExp }> = [
    {
      name: 'RSA image byte changed',
      v: rsa,
      change: (s) => void flip(s, 1000, 1),
      reason: /image digest does not match/,
    },
    {
      name: 'P-256 image byte in the 0xFF padding changed',
      v: p256,
      change: (s) => void (s[app.length + 5] = 0),
      reason: /image digest does not match/,
    },
    {
      name: 'image and block digest changed together (CRC fixed)',
      v: rsa,
      change: (s) => {
        flip(s, 0, 1);
        sha256(s.subarray(0, s.length - SECTOR_SIZE)).copy(blockOf(s), 4);
        fixCrc(blockOf(s));
      },
      reason: /signature is not valid/,
    },
    {
      name: 'P-256 image and block digest changed together (CRC fixed)',
      v: p256,
      change: (s) => {
        flip(s, 7, 0x80);
        sha256(s.subarray(0, s.length - SECTOR_SIZE)).copy(blockOf(s), 4);
        fixCrc(blockOf(s));
      },
      reason: /signature is not valid/,
    },
    {
      name: 'a block byte changed without fixing the CRC',
      v: p256,
      change: (s) => void flip(blockOf(s), 50, 1),
      reason: /CRC32 mismatch/,
    },
    {
      name: 'RSA signature byte changed (CRC fixed)',
      v: rsa,
      change: (s) => {
        flip(blockOf(s), rsa.sigStart + 10, 1);
        fixCrc(blockOf(s));
      },
      reason: /signature is not valid/,
    },
    {
      name: 'ECDSA s changed (CRC fixed)',
      v: p256,
      change: (s) => {
        flip(blockOf(s), p256.sigEnd - 1, 1);
        fixCrc(blockOf(s));
      },
      reason: /signature is not valid/,
    },
    {
      name: 'RSA modulus changed (CRC fixed)',
      v: rsa,
      change: (s) => {
        flip(blockOf(s), KEY_OFFSET + 100, 1);
        fixCrc(blockOf(s));
      },
      reason: /R or M' does not match/,
    },
    {
      name: "RSA M' changed (CRC fixed)",
      v: rsa,
      change: (s) => {
        flip(blockOf(s), KEY_OFFSET + RSA_KEY_SIZE - 1, 1);
        fixCrc(blockOf(s));
      },
      reason: /R or M' does not match/,
    },
    {
      name: 'ECDSA point moved off the curve (CRC fixed)',
      v: p256,
      change: (s) => {
        flip(blockOf(s), KEY_OFFSET + 40, 1);
        fixCrc(blockOf(s));
      },
      reason: /the public key in the block is not a valid key/,
    },
    {
      name: 'the key swapped for another one (CRC fixed)',
      v: p256,
      change: (s) => {
        const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
        const jwk = other.export({ format: 'jwk' });
        const le = (b64: string) => Buffer.from(b64, 'base64url').reverse();
        Buffer.concat([le(jwk.x!), le(jwk.y!)]).copy(blockOf(s), KEY_OFFSET + 1);
        fixCrc(blockOf(s));
      },
      reason: /signature is not valid/,
    },
    {
      name: 'unknown block version (CRC fixed)',
      v: rsa,
      change: (s) => {
        blockOf(s)[1] = 0x04;
        fixCrc(blockOf(s));
      },
      reason: /unsupported block version 0x4/,
    },
    {
      name: 'unsupported curve id (CRC fixed)',
      v: p256,
      change: (s) => {
        blockOf(s)[KEY_OFFSET] = 1;
        fixCrc(blockOf(s));
      },
      reason: /unsupported ECDSA curve id 1/,
    },
    {
      name: 'a reserved byte set (CRC fixed)',
      v: p256,
      change: (s) => {
        blockOf(s)[600] = 1;
        fixCrc(blockOf(s));
      },
      reason: /reserved or padding bytes are not zero/,
    },
    {
      name: 'a byte of the 16-byte block padding changed',
      v: rsa,
      change: (s) => void (blockOf(s)[SIG_BLOCK_SIZE - 1] = 1),
      reason: /reserved or padding bytes are not zero/,
    },
    {
      name: 'data after the last block',
      v: rsa,
      change: (s) => void (s[s.length - 1] = 0),
      reason: /holds data after its last block/,
    },
    {
      name: 'no signature block',
      v: rsa,
      change: (s) => void s.fill(0xff, s.length - SECTOR_SIZE),
      reason: /no signature block/,
    },
  ];
  for (const t of tamper) {
    it(`fail/${t.name}`, () => {
      const s = Buffer.from(t.v.reference);
      expect(verifyEsp32SecureBootV2(s).ok).toBe(true);
      t.change(s);
      const r = verifyEsp32SecureBootV2(s);
      expect(r).toMatchObject({ ok: false });
      if (!r.ok) expect(r.reason).toMatch(t.reason);
    });
  }

  it('fail/a valid image signed by a key the device does not trust', () => {
    const r = verifyEsp32SecureBootV2(rsa.reference, { trustedKeyDigests: [p256.efuseDigest] });
    expect(r).toEqual({ ok: false, reason: 'no signature block is made with a trusted key' });
  });

  it('fail/sizes that cannot be a signed image', () => {
    for (const s of [Buffer.alloc(0), Buffer.alloc(SECTOR_SIZE), rsa.reference.subarray(1)]) {
      expect(verifyEsp32SecureBootV2(s)).toMatchObject({ ok: false, reason: /4 KiB sectors/ });
    }
  });

  it('fail/signing refuses empty images, wrong or unsupported key types', async () => {
    const signer = nodeKeySigner(rsa.privateKey);
    await expect(
      signEsp32SecureBootV2(Buffer.alloc(0), signer, rsa.spki, 'RSA-3072'),
    ).rejects.toThrow(/empty image/);
    await expect(signEsp32SecureBootV2(app, signer, rsa.spki, 'P-256')).rejects.toThrow(
      /is RSA-3072, not P-256/,
    );
    for (const [type, opts] of [
      ['ec', { namedCurve: 'secp384r1' }],
      ['rsa', { modulusLength: 2048 }],
    ] as const) {
      const k = generateKeyPairSync(type as 'ec', opts as { namedCurve: string }).privateKey;
      await expect(
        signEsp32SecureBootV2(app, nodeKeySigner(k), spkiOf(k), 'P-256'),
      ).rejects.toThrow(/must be RSA-3072 or ECDSA P-256/);
    }
  });

  it('fail/a signer holding another key than the one named', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    await expect(
      signEsp32SecureBootV2(app, nodeKeySigner(other), p256.spki, 'P-256'),
    ).rejects.toThrow(/does not verify with the given public key/);
  });

  it('fail/append to an unsigned image or to one with three blocks', async () => {
    const signer = nodeKeySigner(rsa.privateKey);
    await expect(
      appendEsp32SecureBootV2Signature(
        Buffer.alloc(3 * SECTOR_SIZE, 0xff),
        signer,
        rsa.spki,
        'RSA-3072',
      ),
    ).rejects.toThrow(/not a validly signed image/);
    let signed = rsa.reference;
    for (let i = 0; i < 2; i++) {
      signed = await appendEsp32SecureBootV2Signature(signed, signer, rsa.spki, 'RSA-3072');
    }
    expect(verifyEsp32SecureBootV2(signed)).toMatchObject({
      ok: true,
      keyTypes: ['RSA-3072', 'RSA-3072', 'RSA-3072'],
    });
    await expect(
      appendEsp32SecureBootV2Signature(signed, signer, rsa.spki, 'RSA-3072'),
    ).rejects.toThrow(/already has 3 signature blocks/);
  });
});
