import { spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceDeviceTbs } from '../test-helpers/reference-device-cert.js';
import { deviceKey, makeCsr, type TestDeviceKey } from '../test-helpers/test-csr.js';
import { openssl, scratch } from '../test-helpers/test-openssl.js';
import { createTestPki, type TestPki } from '../test-helpers/test-pki.js';
import type { CaCertificateRecord } from './ca-repo.js';
import { subjectKeyId, toPem } from './certificate-builder.js';
import { issuerNameDer } from './cert-fns.js';
import { prepareDeviceCertTemplate, type IssuerProfile } from './device-cert-template.js';
import { checkDeviceKey, type DeviceKeyType } from './device-key-fns.js';
import type { BuiltCertificate } from './issuance-engine.js';
import { randomDeviceSerial } from './issuance-engine.js';

/**
 * The fast path (prepared template, buffers concatenated) must equal the general ASN.1 builder
 * byte for byte, and what it issues must read the same in two independent parsers (OpenSSL
 * and pkijs) as what was asked for, field by field.
 */

const SCHEMES = ['ecdsa-sha256', 'ecdsa-sha384', 'rsa-pkcs1-sha256'] as const;

function keyPool(): TestDeviceKey[] {
  const pool: TestDeviceKey[] = [];
  for (let i = 0; i < 40; i++) pool.push(deviceKey('P-256'));
  for (let i = 0; i < 10; i++) pool.push(deviceKey('P-384'));
  for (let i = 0; i < 3; i++) pool.push(deviceKey('RSA-2048'));
  pool.push(deviceKey('RSA-3072'));
  return pool;
}

describe('fast device-certificate path equals the general builder', () => {
  it('ok/1000 random certificates: identical TBSCertificate bytes', async () => {
    const pool = keyPool();
    for (let i = 0; i < 1000; i++) {
      const key = pool[randomInt(pool.length)]!;
      const checked = checkDeviceKey(key.spkiDer);
      if (!checked.ok) throw new Error(checked.reason);
      const host = randomBytes(randomInt(1, 90)).toString('hex');
      const profile: IssuerProfile = {
        issuerNameDer: issuerNameDer(makeIssuerCert(i)),
        authorityKeyId: randomBytes(20),
        scheme: SCHEMES[i % SCHEMES.length]!,
        crlUrl: `http://${host}.example:8080/pki/x/${i}.crl`,
        ocspUrl: `http://${host}.example/ocsp`,
        caIssuersUrl: `http://${host}.example/pki/x/${i}.crt`,
      };
      // Both sides of 2050 (UTCTime / GeneralizedTime) and the 1950 edge.
      const nb = new Date(
        Date.UTC(
          1950 + randomInt(150),
          randomInt(12),
          1 + randomInt(28),
          randomInt(24),
          randomInt(60),
          randomInt(60),
        ),
      );
      const na = new Date(nb.getTime() + randomInt(60, 200 * 365 * 86400) * 1000);
      const fields = {
        serial: i % 7 === 0 ? Buffer.from([0x00, 0x80, ...randomBytes(15)]) : randomDeviceSerial(),
        notBefore: nb,
        notAfter: na,
        deviceId: key.deviceId,
        spkiDer: key.spkiDer,
        publicKeyBits: checked.key.publicKeyBits,
      };
      const fast = prepareDeviceCertTemplate(profile).tbs(fields);
      const slow = await referenceDeviceTbs(profile, fields);
      if (!fast.equals(slow)) {
        throw new Error(
          `case ${i} differs:\nfast ${fast.toString('hex')}\nslow ${slow.toString('hex')}`,
        );
      }
    }
  });
});

/** A throwaway self-signed certificate whose subject name varies with i (made by openssl). */
const issuerCache = new Map<number, Buffer>();
function makeIssuerCert(i: number): Buffer {
  const k = i % 5;
  let der = issuerCache.get(k);
  if (!der) {
    const subj = [
      '/CN=Devices',
      '/CN=Fleet A/O=Acme, Inc./OU=x',
      '/C=DE/O=Ä Ö Ü GmbH/CN=Issuing G2',
      `/CN=${'l'.repeat(64)}`,
      '/DC=example/DC=com/CN=ca',
    ][k]!;
    der = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      '/dev/null',
      '-subj',
      subj,
      '-utf8',
      '-outform',
      'DER',
      '-days',
      '1',
    ]).stdout;
    issuerCache.set(k, der);
  }
  return der;
}

interface Issued {
  built: BuiltCertificate;
  key: TestDeviceKey;
}

/** Splits `openssl x509 -text` output of many certificates into one field map each. */
function parseOpensslText(text: string) {
  return text
    .split(/^Certificate:\n/m)
    .filter((b) => b.trim())
    .map((block) => {
      const line = (re: RegExp) => re.exec(block)?.[1]?.trim();
      const serialMulti = /Serial Number:\s*\n\s+([0-9a-f:]+)/.exec(block)?.[1];
      const serialSingle = /Serial Number: \d+ \(0x([0-9a-f]+)\)/.exec(block)?.[1];
      const exts: Record<string, { critical: boolean; value: string }> = {};
      const extPart =
        block.split('X509v3 extensions:\n')[1]?.split(/\n {4}Signature Algorithm/)[0] ?? '';
      const extRe = /^ {12}(\S[^:\n]*): ?(critical)?\n((?: {16}.*\n?)*)/gm;
      for (let m; (m = extRe.exec(extPart));) {
        exts[m[1]!] = {
          critical: m[2] === 'critical',
          value: m[3]!.replace(/^ {16}/gm, '').trim(),
        };
      }
      return {
        serial: (serialMulti ?? serialSingle ?? '').replace(/:/g, '').replace(/^(00)+(?=.)/, ''),
        signatureAlgorithm: line(/Signature Algorithm: (.+)/),
        issuer: line(/Issuer: (.+)/),
        notBefore: line(/Not Before: (.+)/),
        notAfter: line(/Not After : (.+)/),
        subject: line(/Subject: (.+)/),
        keyAlgorithm: line(/Public Key Algorithm: (.+)/),
        keyBits: line(/Public-Key: \((\d+) bit\)/),
        curve: line(/NIST CURVE: (.+)/),
        exts,
      };
    });
}

const hexColons = (b: Buffer) => b.toString('hex').toUpperCase().match(/../g)!.join(':');

describe('issued certificates read the same in OpenSSL and pkijs as what was asked for', () => {
  let tp: TestPki;
  const files = scratch();
  const cas: CaCertificateRecord[] = [];
  const issued: Issued[] = [];
  const N = 2000;

  beforeAll(async () => {
    tp = await createTestPki('sqlite', { baseUrl: 'http://pki.diff.test:8080' });
    for (const keyType of ['P-256', 'P-384', 'RSA-3072'] as const) {
      cas.push(
        await tp.pki.issuingCas.create(tp.instanceId, {
          name: `Diff ${keyType}`,
          lifetimeSeconds: 3 * 365 * 86400,
          keyType,
        }),
      );
    }
    const pool = keyPool();
    for (let i = 0; i < N; i++) {
      const key = pool[i % pool.length]!;
      const ca = cas[i % 10 === 0 ? (i % 30 === 0 ? 2 : 1) : 0]!;
      const built = await tp.pki.engine.build({
        instanceId: tp.instanceId,
        issuingCaId: ca.id,
        csrDer: makeCsr(key),
        deviceId: key.deviceId,
        lifetimeSeconds: randomInt(60, 2 * 365 * 86400),
        acceptedKeyTypes: ['P-256', 'P-384', 'RSA-2048', 'RSA-3072'] as DeviceKeyType[],
      });
      issued.push({ built, key });
    }
  }, 300_000);
  afterAll(async () => {
    await tp?.close();
    files.remove();
  });

  it(`ok/${N} certificates: every field matches in both parsers, and openssl verifies every signature`, async () => {
    const bundle = files.file('all.pem', issued.map((c) => toPem(c.built.der)).join(''));
    const p7 = openssl(['crl2pkcs7', '-nocrl', '-certfile', bundle]);
    expect(p7.status).toBe(0);
    const text = openssl(['pkcs7', '-print_certs', '-text', '-noout'], p7.out);
    expect(text.status).toBe(0);
    const parsed = parseOpensslText(text.out);
    expect(parsed.length).toBe(N);

    const caInfo = new Map(
      await Promise.all(
        cas.map(async (ca) => {
          const key = await tp.keystore.publicKey(tp.instanceId, ca.keyId);
          return [ca.id, { ca, ski: subjectKeyId(key.publicKeyDer), alg: key.algorithm }] as const;
        }),
      ),
    );
    const base = `http://pki.diff.test:8080/pki/${tp.instanceId}`;
    const sigAlgName = {
      'P-256': 'ecdsa-with-SHA256',
      'P-384': 'ecdsa-with-SHA384',
      'RSA-3072': 'sha256WithRSAEncryption',
    } as Record<string, string>;
    const sigAlgOid = {
      'P-256': '1.2.840.10045.4.3.2',
      'P-384': '1.2.840.10045.4.3.3',
      'RSA-3072': '1.2.840.113549.1.1.11',
    } as Record<string, string>;
    const opensslDate = (d: Date) => {
      const s = d.toUTCString(); // "Wed, 25 Nov 2026 21:26:08 GMT"
      const [, day, mon, year, time] = /\w+, (\d+) (\w+) (\d+) ([\d:]+) GMT/.exec(s)!;
      return `${mon} ${String(Number(day)).padStart(2, ' ')} ${time} ${year} GMT`;
    };

    for (let i = 0; i < N; i++) {
      const { built, key } = issued[i]!;
      const o = parsed[i]!;
      const info = caInfo.get(built.issuerId)!;
      const bits = checkDeviceKey(key.spkiDer);
      if (!bits.ok) throw new Error(bits.reason);
      const ski = createHash('sha1').update(bits.key.publicKeyBits).digest();
      const expected = {
        serial: built.serial,
        signatureAlgorithm: sigAlgName[info.alg],
        issuer: info.ca.subject,
        notBefore: opensslDate(built.notBefore),
        notAfter: opensslDate(built.notAfter),
        subject: `CN=${key.deviceId}`,
        keyAlgorithm: key.type.startsWith('P-') ? 'id-ecPublicKey' : 'rsaEncryption',
        keyBits: { 'P-256': '256', 'P-384': '384', 'RSA-2048': '2048', 'RSA-3072': '3072' }[
          key.type
        ],
        curve: key.type.startsWith('P-') ? key.type : undefined,
        exts: {
          'X509v3 Basic Constraints': { critical: true, value: 'CA:FALSE' },
          'X509v3 Key Usage': { critical: true, value: 'Digital Signature' },
          'X509v3 Extended Key Usage': { critical: false, value: 'TLS Web Client Authentication' },
          'X509v3 Subject Key Identifier': { critical: false, value: hexColons(ski) },
          'X509v3 Authority Key Identifier': { critical: false, value: hexColons(info.ski) },
          'X509v3 CRL Distribution Points': {
            critical: false,
            value: `Full Name:\n  URI:${base}/${built.issuerId}.crl`,
          },
          'Authority Information Access': {
            critical: false,
            value: `OCSP - URI:${base}/ocsp\nCA Issuers - URI:${base}/${built.issuerId}.crt`,
          },
        },
      };
      const oNorm = {
        ...o,
        exts: Object.fromEntries(
          Object.entries(o.exts).map(([k, v]) => [
            k,
            {
              ...v,
              value: v.value
                .replace(/^keyid:/, '')
                .replace(/\n\s+/g, '\n  ')
                .replace(/\n {2}(?=(OCSP|CA Issuers))/g, '\n'),
            },
          ]),
        ),
      };
      expect(oNorm, `certificate ${i} (openssl)`).toEqual(expected);

      // pkijs, independently.
      const c = pkijs.Certificate.fromBER(built.der);
      const cn = (n: pkijs.RelativeDistinguishedNames) =>
        n.typesAndValues.map((tv) => `${tv.type}=${tv.value.valueBlock.value}`).join(',');
      const pExt = new Map((c.extensions ?? []).map((e) => [e.extnID, e]));
      const uri = (gn: pkijs.GeneralName) => gn.value as string;
      const p = {
        version: c.version,
        serial: Buffer.from(c.serialNumber.valueBlock.valueHexView)
          .toString('hex')
          .replace(/^(00)+(?=.)/, ''),
        sigAlg: c.signatureAlgorithm.algorithmId,
        tbsSigAlg: c.signature.algorithmId,
        issuerDer: Buffer.from(c.issuer.toSchema().toBER()).equals(issuerNameDer(info.ca.der)),
        notBefore: c.notBefore.value.getTime(),
        notAfter: c.notAfter.value.getTime(),
        subject: cn(c.subject),
        spki: Buffer.from(c.subjectPublicKeyInfo.toSchema().toBER()).equals(key.spkiDer),
        extOrder: (c.extensions ?? []).map((e) => `${e.extnID}${e.critical ? '!' : ''}`),
        bc: (pExt.get('2.5.29.19')!.parsedValue as pkijs.BasicConstraints).cA,
        ku: Buffer.from(
          (pExt.get('2.5.29.15')!.parsedValue as { valueBlock: { valueHexView: Uint8Array } })
            .valueBlock.valueHexView,
        ).toString('hex'),
        eku: (pExt.get('2.5.29.37')!.parsedValue as pkijs.ExtKeyUsage).keyPurposes,
        ski: Buffer.from(
          (pExt.get('2.5.29.14')!.parsedValue as { valueBlock: { valueHexView: Uint8Array } })
            .valueBlock.valueHexView,
        ).toString('hex'),
        aki: Buffer.from(
          (pExt.get('2.5.29.35')!.parsedValue as pkijs.AuthorityKeyIdentifier).keyIdentifier!
            .valueBlock.valueHexView,
        ).toString('hex'),
        cdp: (
          pExt.get('2.5.29.31')!.parsedValue as pkijs.CRLDistributionPoints
        ).distributionPoints.map((d) => (d.distributionPoint as pkijs.GeneralName[]).map(uri)),
        aia: (
          pExt.get('1.3.6.1.5.5.7.1.1')!.parsedValue as pkijs.InfoAccess
        ).accessDescriptions.map((a) => [a.accessMethod, uri(a.accessLocation)]),
      };
      expect(p, `certificate ${i} (pkijs)`).toEqual({
        version: 2,
        serial: built.serial,
        sigAlg: sigAlgOid[info.alg],
        tbsSigAlg: sigAlgOid[info.alg],
        issuerDer: true,
        notBefore: built.notBefore.getTime(),
        notAfter: built.notAfter.getTime(),
        subject: `2.5.4.3=${key.deviceId}`,
        spki: true,
        extOrder: [
          '2.5.29.19!',
          '2.5.29.15!',
          '2.5.29.37',
          '2.5.29.14',
          '2.5.29.35',
          '2.5.29.31',
          '1.3.6.1.5.5.7.1.1',
        ],
        bc: false,
        ku: '80',
        eku: ['1.3.6.1.5.5.7.3.2'],
        ski: ski.toString('hex'),
        aki: info.ski.toString('hex'),
        cdp: [[`${base}/${built.issuerId}.crl`]],
        aia: [
          ['1.3.6.1.5.5.7.48.1', `${base}/ocsp`],
          ['1.3.6.1.5.5.7.48.2', `${base}/${built.issuerId}.crt`],
        ],
      });
    }

    // One openssl run checks every signature and chain.
    const root = files.file('root.pem', tp.root.der);
    const untrusted = files.file('issuing.pem', cas.map((c) => toPem(c.der)).join(''));
    const paths = issued.map((c, i) => {
      const p = path.join(files.dir, `c${i}.pem`);
      writeFileSync(p, toPem(c.built.der));
      return p;
    });
    const v = openssl(['verify', '-CAfile', root, '-untrusted', untrusted, ...paths]);
    expect(v.out.split('\n').filter((l) => l.endsWith(': OK')).length).toBe(N);
    expect(v.status).toBe(0);
  });
});
