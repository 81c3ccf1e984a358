import { createHash, randomBytes } from 'node:crypto';
import { verifyManifest } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyRecord } from '../keystore/keystore-types.js';
import { TEST_DIALECTS } from '../test-helpers/test-databases.js';
import { createTestHsm, TEST_KEY_BACKENDS } from '../test-helpers/test-hsm.js';
import { openssl, scratch } from '../test-helpers/test-openssl.js';
import { createTestPki, type TestPki } from '../test-helpers/test-pki.js';
import { esp32KeyDigest } from './esp32-sbv2-key-fns.js';
import { verifyEsp32SecureBootV2 } from './esp32-sbv2-fns.js';
import { createFileBlobStore } from './file-blob-store.js';
import { createFirmwareRepo, type FirmwareRow } from './firmware-repo.js';
import { createSignerCertificates } from './firmware-signer-cert.js';
import { createFirmwareSigning } from './firmware-signing.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const p of s) out.push(p);
  return Buffer.concat(out);
}

/**
 * Signing through the key store on both backends: a key generated in SoftHSM2 (PKCS#11) signs
 * manifests, ESP32 images and CMS signatures exactly as a software key does.
 */
for (const backend of TEST_KEY_BACKENDS)
  for (const dialect of TEST_DIALECTS) {
    describe(`firmware signing with ${backend} keys on ${dialect}`, () => {
      let tp: TestPki;
      let hsm: ReturnType<typeof createTestHsm>['hsm'];
      const files = scratch();
      const keys: Record<'P-256' | 'RSA-3072', KeyRecord> = {} as never;
      let signing: ReturnType<typeof createFirmwareSigning>;
      let blobs: ReturnType<typeof createFileBlobStore>;
      const image = randomBytes(50_000);
      const firmware = (format: FirmwareRow['format']): FirmwareRow => ({
        id: 'fw-1',
        name: 'App',
        description: '',
        version: '1.0.0',
        securityVersion: 4,
        format,
        input: 'binary',
        baseAddress: null,
        size: image.length,
        sha256: sha256(image),
        attributes: [{ name: 'board', value: 'b1' }],
        createdBy: 'test',
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
      });

      beforeAll(async () => {
        hsm = createTestHsm(backend).hsm;
        tp = await createTestPki(dialect, { hsm });
        blobs = createFileBlobStore(files.dir);
        for (const algorithm of ['P-256', 'RSA-3072'] as const) {
          keys[algorithm] = await tp.keystore.generate(tp.instanceId, {
            algorithm,
            label: `fw ${algorithm}`,
            purpose: 'signing',
          });
        }
        signing = createFirmwareSigning({
          keystore: tp.keystore,
          blobs,
          signerCerts: createSignerCertificates({
            repo: createFirmwareRepo(tp.db.kysely),
            keystore: tp.keystore,
            instancePki: { root: async () => tp.root },
            now: tp.clock.now,
          }),
          now: tp.clock.now,
          manifestLifetimeSeconds: 3600,
        });
        await blobs.put(tp.instanceId, [image]);
      });
      afterAll(async () => {
        await tp?.close();
        hsm?.close();
        files.remove();
      });

      for (const algorithm of ['P-256', 'RSA-3072'] as const) {
        it(`ok/${algorithm}: the key lives in ${backend}; the manifest verifies`, async () => {
          const key = keys[algorithm];
          expect(key.backend).toBe(backend);
          const m = await signing.manifest(tp.instanceId, {
            batchId: 'batch-1',
            firmware: firmware('raw'),
            image: { sha256: sha256(image), size: image.length },
            key,
          });
          const v = verifyManifest(m.manifest, {
            publicKeySpki: key.publicKeyDer,
            expected: {
              instanceId: tp.instanceId,
              deviceId: 'a'.repeat(64),
              batchId: 'batch-1',
              hardware: { board: 'b1' },
              installedSecurityVersion: 4,
              now: tp.clock.now(),
            },
          });
          expect(v).toMatchObject({ ok: true, keyType: algorithm });
          expect(Date.parse(m.expiresAt) - Date.parse(m.issuedAt)).toBe(3600_000);
        });

        it(`ok/${algorithm}: the ESP32 Secure Boot V2 image verifies with the key's digest`, async () => {
          const key = keys[algorithm];
          const blob = await signing.native(
            tp.instanceId,
            firmware('esp32-sbv2'),
            key,
            'esp32-sbv2',
          );
          const signed = await readAll(await blobs.get(tp.instanceId, blob.sha256));
          expect(blob).toEqual({ sha256: sha256(signed), size: signed.length });
          expect(
            verifyEsp32SecureBootV2(signed, {
              trustedKeyDigests: [esp32KeyDigest(key.publicKeyDer)],
            }),
          ).toMatchObject({ ok: true, keyTypes: [algorithm] });
        });

        it(`ok/${algorithm}: the detached CMS signature verifies with openssl against the root`, async () => {
          const key = keys[algorithm];
          const blob = await signing.native(
            tp.instanceId,
            firmware('linux-bundle-cms'),
            key,
            'cms',
          );
          const p7s = await readAll(await blobs.get(tp.instanceId, blob.sha256));
          const r = openssl([
            ...['cms', '-verify', '-binary', '-inform', 'DER'],
            ...['-in', files.file(`${algorithm}.p7s`, p7s, true)],
            ...['-content', files.file('bundle.img', image, true)],
            ...['-CAfile', files.file('root.pem', tp.root.der), '-out', '/dev/null'],
          ]);
          expect(r.out).toMatch(/Verification successful/);
          expect(r.status).toBe(0);
        });
      }

      it('ok/the signer certificate is issued once per key and reused', async () => {
        const count = await tp.db.kysely
          .selectFrom('firmware_signer_certificates')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        expect(Number(count.n)).toBe(2);
        const before = await createFirmwareRepo(tp.db.kysely).signerCertificate(
          tp.instanceId,
          keys['P-256'].id,
        );
        await signing.native(tp.instanceId, firmware('linux-bundle-cms'), keys['P-256'], 'cms');
        const after = await createFirmwareRepo(tp.db.kysely).signerCertificate(
          tp.instanceId,
          keys['P-256'].id,
        );
        expect(after?.der.equals(before!.der)).toBe(true);
        const x = openssl([
          'x509',
          '-noout',
          '-ext',
          'extendedKeyUsage,keyUsage',
          '-in',
          files.file('signer.pem', before!.der),
        ]);
        expect(x.out).toMatch(/Code Signing/);
        expect(x.out).toMatch(/Digital Signature/);
      });
    });
  }
