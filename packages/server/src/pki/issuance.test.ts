import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../lib/errors.js';
import { TEST_DIALECTS } from '../test-helpers/test-databases.js';
import { deviceKey, makeCsr } from '../test-helpers/test-csr.js';
import { createTestHsm, TEST_KEY_BACKENDS } from '../test-helpers/test-hsm.js';
import { openssl, scratch } from '../test-helpers/test-openssl.js';
import { createTestPki, type TestPki } from '../test-helpers/test-pki.js';
import type { CaCertificateRecord } from './ca-repo.js';
import { createDeviceCertRepo } from './device-cert-repo.js';
import { toPem } from './certificate-builder.js';
import { DEVICE_KEY_TYPES } from './device-key-fns.js';
import type { IssuingKeyType } from './issuing-ca-service.js';

const DAY = 24 * 3600;
const ALL_TYPES = [...DEVICE_KEY_TYPES];

async function rowCount(tp: TestPki): Promise<number> {
  const r = await tp.db.kysely
    .selectFrom('device_certificates')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

for (const backend of TEST_KEY_BACKENDS)
  for (const dialect of TEST_DIALECTS) {
    describe(`issuance with the ${backend} key store on ${dialect}`, () => {
      let tp: TestPki;
      let hsm: (ReturnType<typeof createTestHsm>['hsm'] & object) | undefined;
      const cas = new Map<IssuingKeyType, CaCertificateRecord>();
      const files = scratch();
      let rootFile: string;

      beforeAll(async () => {
        hsm = createTestHsm(backend).hsm;
        tp = await createTestPki(dialect, { hsm });
        rootFile = files.file('root.pem', tp.root.der);
        for (const keyType of ['P-256', 'P-384', 'RSA-3072'] as const) {
          cas.set(
            keyType,
            await tp.pki.issuingCas.create(tp.instanceId, {
              name: `Devices ${keyType}`,
              lifetimeSeconds: 365 * DAY,
              keyType,
            }),
          );
        }
      });
      afterAll(async () => {
        await tp?.close();
        hsm?.close();
        files.remove();
      });

      const issue = (caType: IssuingKeyType, csrDer: Buffer, deviceId: string, extra = {}) =>
        tp.pki.deviceCerts.issueDeviceCertificate({
          instanceId: tp.instanceId,
          issuingCaId: cas.get(caType)!.id,
          csrDer,
          deviceId,
          lifetimeSeconds: 30 * DAY,
          acceptedKeyTypes: ALL_TYPES,
          ...extra,
        });

      it('ok/the issuing CAs are in the configured backend and chain to the root', async () => {
        for (const [keyType, ca] of cas) {
          const key = await tp.keystore.publicKey(tp.instanceId, ca.keyId);
          expect(key.backend).toBe(backend);
          expect(key.algorithm).toBe(keyType);
          const r = openssl([
            'verify',
            '-CAfile',
            rootFile,
            files.file(`ca-${keyType}.pem`, ca.der),
          ]);
          expect(r.out).toMatch(/: OK/);
        }
      });

      for (const caType of ['P-256', 'P-384', 'RSA-3072'] as const) {
        for (const keyType of DEVICE_KEY_TYPES) {
          it(`ok/${keyType} device key under a ${caType} issuing CA: openssl verify says OK`, async () => {
            const key = deviceKey(keyType);
            const rec = await issue(caType, makeCsr(key), key.deviceId);
            const x = new X509Certificate(rec.der);
            expect(x.subject).toBe(`CN=${key.deviceId}`);
            expect(rec.serial).toBe(
              BigInt(`0x${x.serialNumber}`).toString(16).padStart(rec.serial.length, '0'),
            );
            const r = openssl([
              'verify',
              '-CAfile',
              rootFile,
              '-untrusted',
              files.file(`issuing-${caType}.pem`, cas.get(caType)!.der),
              '-purpose',
              'sslclient',
              files.file(`dev-${caType}-${keyType}.pem`, rec.der),
            ]);
            expect(r.out.trim()).toMatch(/: OK$/);
            expect(r.status).toBe(0);
          });
        }
      }

      it('ok/an openssl-made CSR is accepted, and the record holds serial, device, issuer, validity, status', async () => {
        const keyFile = files.file('k.pem', '');
        openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
        const spki = Buffer.from(
          openssl(['pkey', '-in', keyFile, '-pubout']).out.replace(/-----[^-]+-----|\s/g, ''),
          'base64',
        );
        const deviceId = createHash('sha256').update(spki).digest('hex');
        const csrPem = openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${deviceId}`]).out;
        const csrDer = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
        tp.clock.set(new Date('2026-12-01T10:00:00.400Z'));
        const rec = await issue('P-256', csrDer, deviceId, { lifetimeSeconds: 3600 });
        const stored = await tp.pki.deviceCerts.get(tp.instanceId, rec.id);
        expect(stored).toMatchObject({
          deviceId,
          issuerId: cas.get('P-256')!.id,
          status: 'valid',
          serial: rec.serial,
          // backdated five minutes for clock skew, whole seconds
          notBefore: '2026-12-01T09:55:00.000Z',
          notAfter: '2026-12-01T11:00:00.000Z',
        });
        expect(stored.serial).toMatch(/^[0-9a-f]{30,32}$/);
        expect(tp.audit.at(-1)).toMatchObject({
          action: 'pki.device-certificate.issue',
          target: { id: rec.id },
        });
        tp.clock.set(new Date());
      });

      it('ok/the lifetime never passes the issuing CA', async () => {
        const key = deviceKey();
        const rec = await issue('P-256', makeCsr(key), key.deviceId, {
          lifetimeSeconds: 10 * 365 * DAY,
        });
        expect(rec.notAfter).toBe(cas.get('P-256')!.notAfter);
      });

      it('ok/extensions: CA:false, digitalSignature, clientAuth, SKI/AKI, CDP and OCSP at this instance', async () => {
        const key = deviceKey();
        const rec = await issue('P-256', makeCsr(key), key.deviceId);
        const text = openssl([
          'x509',
          '-noout',
          '-text',
          '-in',
          files.file('ext.pem', rec.der),
        ]).out;
        expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
        expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
        expect(text).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication\n/);
        expect(text).toMatch(/Subject Key Identifier/);
        expect(text).toMatch(/Authority Key Identifier/);
        const ca = cas.get('P-256')!;
        expect(text).toContain(`URI:http://pki.test:8080/pki/${tp.instanceId}/${ca.id}.crl`);
        expect(text).toContain(`OCSP - URI:http://pki.test:8080/pki/${tp.instanceId}/ocsp`);
        expect(text).toContain(
          `CA Issuers - URI:http://pki.test:8080/pki/${tp.instanceId}/${ca.id}.crt`,
        );
      });

      const p256 = deviceKey('P-256');
      const p384 = deviceKey('P-384');
      const failures: [
        string,
        () => { csr: Buffer; id: string; extra?: object },
        number,
        string,
      ][] = [
        [
          'fail/malformed CSR',
          () => ({ csr: Buffer.from('not a csr at all'), id: p256.deviceId }),
          400,
          'csr-invalid',
        ],
        [
          'fail/truncated CSR',
          () => ({ csr: makeCsr(p256).subarray(0, 100), id: p256.deviceId }),
          400,
          'csr-invalid',
        ],
        [
          'fail/trailing bytes after the CSR',
          () => ({ csr: Buffer.concat([makeCsr(p256), Buffer.from([0])]), id: p256.deviceId }),
          400,
          'csr-invalid',
        ],
        [
          'fail/bad CSR signature',
          () => ({ csr: makeCsr(p256, { badSignature: true }), id: p256.deviceId }),
          400,
          'csr-signature-invalid',
        ],
        [
          'fail/key type the policy does not accept',
          () => ({ csr: makeCsr(p384), id: p384.deviceId, extra: { acceptedKeyTypes: ['P-256'] } }),
          400,
          'key-type-not-accepted',
        ],
        [
          'fail/oversized input',
          () => ({ csr: Buffer.alloc(64 * 1024, 0x30), id: p256.deviceId }),
          413,
          'payload-too-large',
        ],
        [
          'fail/CSR key is not the device ID',
          () => ({ csr: makeCsr(p256), id: p384.deviceId }),
          400,
          'device-id-mismatch',
        ],
        [
          'fail/subject CN is another device',
          () => ({ csr: makeCsr(p256, { cn: p384.deviceId }), id: p256.deviceId }),
          400,
          'csr-subject-mismatch',
        ],
        [
          'fail/compressed EC point (non-canonical key)',
          () => {
            const point = p256.spkiDer.subarray(27);
            const compressed = Buffer.concat([
              Buffer.from([point[63]! & 1 ? 3 : 2]),
              point.subarray(0, 32),
            ]);
            const spki = Buffer.concat([
              Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
              compressed,
            ]);
            return { csr: makeCsr(p256, { spkiDer: spki }), id: p256.deviceId };
          },
          400,
          'csr-invalid',
        ],
      ];
      for (const [name, make, status, type] of failures) {
        it(`${name}: ${status} ${type}, nothing stored`, async () => {
          const before = await rowCount(tp);
          const { csr, id, extra } = make();
          const err = await issue('P-256', csr, id, extra ?? {}).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(AppError);
          expect((err as AppError).status).toBe(status);
          expect((err as AppError).type).toBe(type);
          expect((err as AppError).message.length).toBeGreaterThan(10);
          expect(await rowCount(tp)).toBe(before);
          expect(tp.audit.at(-1)).toMatchObject({
            action: 'pki.device-certificate.issue',
            result: 'failed',
            details: { type },
          });
        });
      }

      it("fail/another instance's issuing CA is not found", async () => {
        const err = await tp.pki.deviceCerts
          .issueDeviceCertificate({
            instanceId: tp.otherInstanceId,
            issuingCaId: cas.get('P-256')!.id,
            csrDer: makeCsr(p256),
            deviceId: p256.deviceId,
            lifetimeSeconds: DAY,
          })
          .catch((e: unknown) => e);
        expect((err as AppError).status).toBe(404);
      });

      it('fail/the database refuses a second certificate with the same (issuer, serial)', async () => {
        const key = deviceKey();
        const rec = await issue('P-256', makeCsr(key), key.deviceId);
        await expect(
          createDeviceCertRepo(tp.db.kysely).insert({ ...rec, id: 'copy' }),
        ).rejects.toThrow(/unique|UNIQUE/);
      });

      it('ok/revocation: the CRL and OCSP say revoked, openssl agrees (good before)', async () => {
        const ca = cas.get('P-256')!;
        const key = deviceKey();
        const rec = await issue('P-256', makeCsr(key), key.deviceId);
        const issuingFile = files.file('rev-issuing.pem', ca.der);
        const devFile = files.file('rev-dev.pem', rec.der);
        const ocspCheck = async (name: string) => {
          const req = openssl([
            'ocsp',
            '-issuer',
            issuingFile,
            '-cert',
            devFile,
            '-no_nonce',
            '-reqout',
            files.file(`${name}.req`, ''),
          ]);
          expect(req.status).toBe(0);
          const answer = await tp.pki.ocsp.respond(
            tp.instanceId,
            readFileSync(`${files.dir}/${name}.req`),
          );
          const respFile = files.file(`${name}.resp`, answer.der, true);
          return openssl([
            'ocsp',
            '-respin',
            respFile,
            '-issuer',
            issuingFile,
            '-cert',
            devFile,
            '-CAfile',
            rootFile,
          ]).out;
        };
        const good = await ocspCheck('good');
        expect(good).toMatch(/rev-dev.pem: good/);
        expect(good).toMatch(/Response verify OK/);

        await tp.pki.deviceCerts.revoke(tp.instanceId, rec.id, 'keyCompromise', {
          actor: { type: 'user', id: 'u1', name: 'tester' },
        });
        expect(tp.audit.at(-1)).toMatchObject({
          action: 'pki.device-certificate.revoke',
          context: { actor: { name: 'tester' } },
        });
        await tp.pki.crl.rebuildDue();
        const crl = await tp.pki.crl.current(tp.instanceId, ca.id);
        const crlFile = files.file('crl.pem', toPem(crl.der, 'X509 CRL'));
        expect(
          openssl([
            'crl',
            '-in',
            crlFile,
            '-noout',
            '-CAfile',
            files.file('crl-ca.pem', toPem(ca.der)),
          ]).out,
        ).toMatch(/verify OK/);
        const crlText = openssl(['crl', '-in', crlFile, '-noout', '-text']).out;
        expect(crlText).toContain(rec.serial.toUpperCase());
        expect(crlText).toMatch(/Key Compromise/);
        const v = openssl([
          'verify',
          '-crl_check',
          '-CAfile',
          rootFile,
          '-untrusted',
          issuingFile,
          '-CRLfile',
          crlFile,
          devFile,
        ]);
        expect(v.out).toMatch(/certificate revoked/);
        expect(v.status).not.toBe(0);
        expect(await ocspCheck('revoked')).toMatch(
          /rev-dev.pem: revoked[\s\S]*Reason: keyCompromise/,
        );

        const again = await tp.pki.deviceCerts
          .revoke(tp.instanceId, rec.id, 'superseded')
          .catch((e: unknown) => e);
        expect((again as AppError).status).toBe(409);
      });

      it('ok/OCSP answers are signed once and served from the cache until the status changes', async () => {
        const ca = cas.get('P-256')!;
        const key = deviceKey();
        const rec = await issue('P-256', makeCsr(key), key.deviceId);
        const reqFile = files.file('c.req', '');
        openssl([
          'ocsp',
          '-issuer',
          files.file('c-iss.pem', ca.der),
          '-cert',
          files.file('c-dev.pem', rec.der),
          '-no_nonce',
          '-reqout',
          reqFile,
        ]);
        const der = readFileSync(reqFile);
        const first = await tp.pki.ocsp.respond(tp.instanceId, der);
        const signed = tp.pki.ocsp.signatures;
        for (let i = 0; i < 20; i++) {
          const again = await tp.pki.ocsp.respond(tp.instanceId, der);
          expect(again.der.equals(first.der)).toBe(true);
        }
        expect(tp.pki.ocsp.signatures).toBe(signed);
        await tp.pki.deviceCerts.revoke(tp.instanceId, rec.id, 'cessationOfOperation');
        const after = await tp.pki.ocsp.respond(tp.instanceId, der);
        expect(after.der.equals(first.der)).toBe(false);
        expect(tp.pki.ocsp.signatures).toBe(signed + 1);
      });

      it('ok/a burst of revocations rebuilds the CRL a few times, not once each', async () => {
        const ca = cas.get('P-384')!;
        const recs = [];
        for (let i = 0; i < 60; i++) {
          const key = deviceKey();
          recs.push(await issue('P-384', makeCsr(key), key.deviceId));
        }
        await tp.pki.crl.settle();
        const before = tp.pki.crl.builds;
        for (const r of recs) await tp.pki.deviceCerts.revoke(tp.instanceId, r.id, 'superseded');
        await tp.pki.crl.settle();
        const built = tp.pki.crl.builds - before;
        expect(built).toBeGreaterThanOrEqual(1);
        expect(built).toBeLessThan(15);
        const crl = await tp.pki.crl.current(tp.instanceId, ca.id);
        const text = openssl(['crl', '-inform', 'DER', '-noout', '-text'], crl.der).out;
        for (const r of recs) expect(text).toContain(r.serial.toUpperCase());
        expect(await tp.pki.crl.rebuildDue()).toBe(0);
      });

      it('ok/an auto-renewing issuing CA is replaced before it expires; devices under the old one stay valid', async () => {
        const start = new Date();
        tp.clock.set(start);
        const old = await tp.pki.issuingCas.create(tp.instanceId, {
          name: 'Renewing',
          lifetimeSeconds: 30 * DAY,
          autoRenew: true,
        });
        const key1 = deviceKey();
        const cert1 = await tp.pki.deviceCerts.issueDeviceCertificate({
          instanceId: tp.instanceId,
          issuingCaId: old.id,
          csrDer: makeCsr(key1),
          deviceId: key1.deviceId,
          lifetimeSeconds: 25 * DAY,
        });
        expect((await tp.pki.jobs.runOnce()).renewed).toBe(0);
        tp.clock.advance(21 * DAY * 1000); // past two thirds of 30 days
        expect((await tp.pki.jobs.runOnce()).renewed).toBe(1);
        expect((await tp.pki.jobs.runOnce()).renewed).toBe(0); // idempotent
        const listed = await tp.pki.listCertificates(tp.instanceId);
        const before = listed.find((c) => c.id === old.id)!;
        const next = listed.find((c) => c.id === before.renewedBy)!;
        expect(before.status).toBe('valid');
        expect(next).toMatchObject({ lineageId: old.id, autoRenew: true, status: 'not used' });
        expect(Date.parse(next.notAfter)).toBeGreaterThan(Date.parse(old.notAfter));
        expect(
          tp.audit.some((e) => e.action === 'pki.issuing-ca.renew' && e.target?.id === old.id),
        ).toBe(true);
        // New certificates for the old id come from the successor.
        const key2 = deviceKey();
        const cert2 = await tp.pki.deviceCerts.issueDeviceCertificate({
          instanceId: tp.instanceId,
          issuingCaId: old.id,
          csrDer: makeCsr(key2),
          deviceId: key2.deviceId,
          lifetimeSeconds: DAY,
        });
        expect(cert2.issuerId).toBe(next.id);
        const at = String(Math.floor(tp.clock.now().getTime() / 1000));
        const verifyAt = (cert: Buffer, ca: Buffer, name: string) =>
          openssl([
            'verify',
            '-attime',
            at,
            '-CAfile',
            rootFile,
            '-untrusted',
            files.file(`${name}-ca.pem`, ca),
            files.file(`${name}.pem`, cert),
          ]).out;
        expect(verifyAt(cert1.der, old.der, 'renew-old')).toMatch(/: OK/);
        expect(verifyAt(cert2.der, next.der, 'renew-new')).toMatch(/: OK/);
        // Both generations keep their own CRL.
        expect((await tp.pki.crl.current(tp.instanceId, old.id)).number).toBeGreaterThan(0);
        expect((await tp.pki.crl.current(tp.instanceId, next.id)).number).toBeGreaterThan(0);
        tp.clock.set(new Date());
      });

      it('ok/CRLs are refreshed before their nextUpdate', async () => {
        const ca = cas.get('RSA-3072')!;
        const first = await tp.pki.crl.current(tp.instanceId, ca.id);
        tp.clock.set(new Date(Date.parse(first.thisUpdate) + 13 * 3600 * 1000));
        await tp.pki.jobs.runOnce();
        const second = await tp.pki.crl.current(tp.instanceId, ca.id);
        expect(second.number).toBe(first.number + 1);
        expect(Date.parse(second.nextUpdate)).toBeGreaterThan(Date.parse(first.nextUpdate));
        tp.clock.set(new Date());
      });
    });
  }
