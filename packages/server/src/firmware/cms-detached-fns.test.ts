import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ContentInfo,
  SignedData,
  SigningTime,
  id_messageDigest,
  id_signingTime,
} from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyAlgorithm, KeyStore, SignatureScheme } from '../keystore/keystore-types.js';
import {
  KeyUsageFlags,
  buildCertificate,
  randomSerial,
  subjectKeyId,
  subjectNameOf,
  toPem,
  type TbsSigner,
} from '../pki/certificate-builder.js';
import { signDetachedCms, type CmsSignatureScheme } from './cms-detached-fns.js';
import { keyStoreSigner, type FirmwareSigner } from './firmware-signer.js';
import { sha256OfStream } from './stream-digest-fns.js';
import { nodeKeySigner, openTestKeyStore } from './test-helpers/test-signers.js';

// A fixed clock: certificates valid 2020..2045, signatures made at one known instant.
const NOT_BEFORE = new Date('2020-01-01T00:00:00Z');
const NOT_AFTER = new Date('2045-01-01T00:00:00Z');
const SIGNING_TIME = new Date('2026-03-04T05:06:07Z');
const ID_KP_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

interface Issued {
  der: Buffer;
  spki: Buffer;
  signer: FirmwareSigner;
  tbs: TbsSigner;
}

describe('signDetachedCms, verified by openssl cms', () => {
  let ks: { keystore: KeyStore; instanceId: string; close(): Promise<void> };
  let dir: string;
  let root: Issued;
  let intermediate: Issued;
  const bundle = randomBytes(100_000);
  let bundlePath: string;
  let rootPem: string;

  const file = (name: string, data: Buffer | string) => {
    const p = path.join(dir, name);
    writeFileSync(p, data);
    return p;
  };

  /** openssl cms -verify as the docs tell a user to run it; returns exit status and stderr. */
  const opensslVerify = (sig: Buffer, content: string, caFile: string, extra: string[] = []) => {
    const r = spawnSync('openssl', [
      ...['cms', '-verify', '-binary', '-inform', 'DER'],
      ...['-in', file(`sig-${randomBytes(4).toString('hex')}.p7s`, sig)],
      ...['-content', content, '-CAfile', caFile, '-out', '/dev/null', ...extra],
    ]);
    return { status: r.status, stderr: r.stderr.toString() };
  };

  /** A key in the key store and a certificate for it, signed by `issuer` (or self). */
  async function issue(
    algorithm: KeyAlgorithm,
    subject: string,
    issuer: Issued | undefined,
    profile: { ca?: boolean; eku?: string[] },
  ): Promise<Issued> {
    const key = await ks.keystore.generate(ks.instanceId, {
      algorithm,
      label: subject,
      purpose: profile.ca ? 'ca' : 'signing',
    });
    const signer = keyStoreSigner(ks.keystore, ks.instanceId, key.id);
    const scheme: SignatureScheme = algorithm.startsWith('P-')
      ? 'ecdsa-sha256'
      : 'rsa-pkcs1-sha256';
    const tbs: TbsSigner = { scheme, sign: (data) => signer(data, scheme) };
    const der = await buildCertificate(
      {
        serial: randomSerial(),
        issuer: issuer ? subjectNameOf(issuer.der) : subject,
        subject,
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
        subjectPublicKeyDer: key.publicKeyDer,
        authorityKeyId: issuer ? subjectKeyId(issuer.spki) : undefined,
        ca: profile.ca ? {} : undefined,
        keyUsage: profile.ca
          ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign
          : KeyUsageFlags.digitalSignature,
        extendedKeyUsage: profile.eku,
      },
      issuer?.tbs ?? tbs,
    );
    return { der, spki: key.publicKeyDer, signer, tbs };
  }

  beforeAll(async () => {
    ks = await openTestKeyStore();
    dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-cms-'));
    root = await issue('P-256', 'CN=Test Update Root', undefined, { ca: true });
    intermediate = await issue('RSA-3072', 'CN=Test Update CA', root, { ca: true });
    rootPem = file('root.pem', toPem(root.der));
    bundlePath = file('bundle.raucb', bundle);
  });
  afterAll(async () => {
    await ks.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const schemes: Array<[CmsSignatureScheme, KeyAlgorithm]> = [
    ['ecdsa-sha256', 'P-256'],
    ['rsa-pkcs1-sha256', 'RSA-3072'],
    ['rsa-pss-sha256', 'RSA-3072'],
  ];
  for (const [scheme, algorithm] of schemes) {
    it(`ok/${scheme} with a ${algorithm} key store key through an intermediate`, async () => {
      const leaf = await issue(algorithm, `CN=Bundle signer ${scheme}`, intermediate, {});
      const sig = await signDetachedCms(bundle, leaf.der, [intermediate.der], leaf.signer, scheme, {
        signingTime: SIGNING_TIME,
      });
      const r = opensslVerify(sig, bundlePath, rootPem);
      expect(r.stderr).toMatch(/Verification successful/);
      expect(r.status).toBe(0);

      // Detached, with the three signed attributes carrying the digest and the fixed time.
      const info = AsnConvert.parse(sig, ContentInfo);
      const sd = AsnConvert.parse(info.content, SignedData);
      expect(sd.encapContentInfo.eContent).toBeUndefined();
      expect(sd.certificates).toHaveLength(2);
      const attrs = sd.signerInfos[0]!.signedAttrs!;
      expect(attrs.map((a) => a.attrType).sort()).toEqual([
        '1.2.840.113549.1.9.3',
        '1.2.840.113549.1.9.4',
        '1.2.840.113549.1.9.5',
      ]);
      const md = attrs.find((a) => a.attrType === id_messageDigest)!.attrValues[0]!;
      expect(Buffer.from(AsnConvert.parse(md, OctetString).buffer)).toEqual(
        createHash('sha256').update(bundle).digest(),
      );
      const st = attrs.find((a) => a.attrType === id_signingTime)!.attrValues[0]!;
      expect(AsnConvert.parse(st, SigningTime).getTime()).toEqual(SIGNING_TIME);
    });
  }

  it('ok/a large bundle hashed as a stream, signed by its digest', async () => {
    const big = file('big.bundle', randomBytes(24 * 1024 * 1024));
    const sha256 = await sha256OfStream(createReadStream(big));
    const leaf = await issue('P-256', 'CN=Big bundle signer', intermediate, {});
    const sig = await signDetachedCms(
      { sha256 },
      leaf.der,
      [intermediate.der],
      leaf.signer,
      'ecdsa-sha256',
    );
    expect(opensslVerify(sig, big, rootPem).status).toBe(0);
  });

  it('ok/a node:crypto key signs under a certificate issued by the root', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    const der = await buildCertificate(
      {
        serial: randomSerial(),
        issuer: subjectNameOf(root.der),
        subject: 'CN=Offline signer',
        notBefore: NOT_BEFORE,
        notAfter: NOT_AFTER,
        subjectPublicKeyDer: spki,
        authorityKeyId: subjectKeyId(root.spki),
        keyUsage: KeyUsageFlags.digitalSignature,
      },
      root.tbs,
    );
    const sig = await signDetachedCms(bundle, der, [], nodeKeySigner(privateKey), 'rsa-pss-sha256');
    expect(opensslVerify(sig, bundlePath, rootPem).status).toBe(0);
  });

  it('ok/a code-signing certificate verifies once openssl is told any purpose will do', async () => {
    const leaf = await issue('P-256', 'CN=Code signer', intermediate, {
      eku: [ID_KP_CODE_SIGNING],
    });
    const sig = await signDetachedCms(
      bundle,
      leaf.der,
      [intermediate.der],
      leaf.signer,
      'ecdsa-sha256',
    );
    // openssl cms checks for the S/MIME signing purpose by default, which codeSigning lacks.
    expect(opensslVerify(sig, bundlePath, rootPem).stderr).toMatch(
      /unsuitable certificate purpose/,
    );
    expect(opensslVerify(sig, bundlePath, rootPem, ['-purpose', 'any']).status).toBe(0);
  });

  describe('refusals', () => {
    let leaf: Issued;
    let sig: Buffer;
    beforeAll(async () => {
      leaf = await issue('P-256', 'CN=Refusal signer', intermediate, {});
      sig = await signDetachedCms(
        bundle,
        leaf.der,
        [intermediate.der],
        leaf.signer,
        'ecdsa-sha256',
      );
    });

    it('fail/openssl refuses a bundle changed by one byte', () => {
      const changed = Buffer.from(bundle);
      changed[12345] = changed[12345]! ^ 1;
      const r = opensslVerify(sig, file('changed.bundle', changed), rootPem);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/content verify error/);
    });

    it('fail/openssl refuses a chain that does not end in the trusted root', async () => {
      const otherRoot = await issue('P-256', 'CN=Other Root', undefined, { ca: true });
      const r = opensslVerify(sig, bundlePath, file('other.pem', toPem(otherRoot.der)));
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/certificate verify error|unable to get/i);
    });

    it('fail/openssl refuses without the intermediate', async () => {
      const bare = await signDetachedCms(bundle, leaf.der, [], leaf.signer, 'ecdsa-sha256');
      expect(opensslVerify(bare, bundlePath, rootPem).status).not.toBe(0);
    });

    it('fail/a digest that is not SHA-256 sized', async () => {
      await expect(
        signDetachedCms({ sha256: Buffer.alloc(20) }, leaf.der, [], leaf.signer, 'ecdsa-sha256'),
      ).rejects.toThrow(/must be 32 bytes/);
    });

    it('fail/a scheme that does not fit the certificate key', async () => {
      await expect(
        signDetachedCms(bundle, leaf.der, [], leaf.signer, 'rsa-pss-sha256'),
      ).rejects.toThrow(/cannot sign with rsa-pss-sha256/);
    });

    it('fail/certificates that are not DER X.509', async () => {
      await expect(
        signDetachedCms(bundle, Buffer.from('nope'), [], leaf.signer, 'ecdsa-sha256'),
      ).rejects.toThrow(/signer certificate is not a DER X.509/);
      await expect(
        signDetachedCms(bundle, leaf.der, [Buffer.from('x')], leaf.signer, 'ecdsa-sha256'),
      ).rejects.toThrow(/chain certificate 1 is not a DER X.509/);
    });

    it('fail/a signer holding another key than the certificate', async () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      await expect(
        signDetachedCms(bundle, leaf.der, [], nodeKeySigner(other), 'ecdsa-sha256'),
      ).rejects.toThrow(/does not verify with the signer certificate's key/);
    });
  });
});
