import { createPublicKey, generateKeyPairSync, verify, constants } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { createInstanceRepo } from '../instances/instance-repo.js';
import { generateMasterKey, makeRing } from '../secrets/master-key.js';
import { createSecretBox } from '../secrets/secret-box.js';
import {
  createTestDatabase,
  TEST_DIALECTS,
  type TestDatabase,
} from '../test-helpers/test-databases.js';
import { KEY_ALGORITHMS, type KeyStore } from './keystore-types.js';
import { createKeyRepo } from './keystore-repo.js';
import { createKeyStore } from './keystore-service.js';
import { createSoftwareBackend } from './software-backend.js';
import { createTestHsm, TEST_KEY_BACKENDS, type TestToken } from '../test-helpers/test-hsm.js';
import { openPkcs11Module, pkcs11js } from './pkcs11-module.js';
import type { createPkcs11Backend } from './pkcs11-backend.js';

for (const backend of TEST_KEY_BACKENDS)
  for (const dialect of TEST_DIALECTS) {
    describe(`${backend} key store on ${dialect}`, () => {
      let tdb: TestDatabase;
      let db: Db;
      let ks: KeyStore;
      let hsm: ReturnType<typeof createPkcs11Backend> | undefined;
      let token: TestToken | undefined;
      const instanceId = 'inst-a';

      beforeAll(async () => {
        ({ hsm, token } = createTestHsm(backend));
        tdb = await createTestDatabase(dialect);
        db = await openDatabase(tdb.url);
        await migrateToLatest(db);
        await createInstanceRepo(db.kysely).insert({
          id: instanceId,
          name: 'a',
          createdAt: new Date().toISOString(),
          claimedAt: null,
        });
        await createInstanceRepo(db.kysely).insert({
          id: 'inst-b',
          name: 'b',
          createdAt: new Date().toISOString(),
          claimedAt: null,
        });
        const ring = makeRing([generateMasterKey()], 'test');
        const box = createSecretBox(() => ring);
        ks = createKeyStore({
          repo: createKeyRepo(db.kysely),
          software: createSoftwareBackend(box),
          hsm,
        });
      });
      afterAll(async () => {
        hsm?.close();
        await db.close();
        await tdb.drop();
      });

      for (const algorithm of KEY_ALGORITHMS) {
        it(`ok/generate ${algorithm}, sign, verify with the public key`, async () => {
          const key = await ks.generate(instanceId, {
            algorithm,
            label: `k-${algorithm}`,
            purpose: 'signing',
          });
          const pub = createPublicKey({ key: key.publicKeyDer, format: 'der', type: 'spki' });
          const data = Buffer.from('to be signed');
          if (algorithm.startsWith('P-')) {
            const scheme = algorithm === 'P-384' ? 'ecdsa-sha384' : 'ecdsa-sha256';
            const sig = await ks.sign(instanceId, key.id, data, scheme);
            expect(verify(algorithm === 'P-384' ? 'sha384' : 'sha256', data, pub, sig)).toBe(true);
          } else {
            const sig = await ks.sign(instanceId, key.id, data, 'rsa-pss-sha256');
            expect(
              verify(
                'sha256',
                data,
                { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
                sig,
              ),
            ).toBe(true);
            const sig2 = await ks.sign(instanceId, key.id, data, 'rsa-pkcs1-sha256');
            expect(verify('sha256', data, pub, sig2)).toBe(true);
          }
        });
      }

      it(`ok/new keys live in the ${backend} backend, TLS keys in software`, async () => {
        const key = await ks.generate(instanceId, {
          algorithm: 'P-256',
          label: 'where',
          purpose: 'ca',
        });
        expect(key.backend).toBe(backend);
        expect(key.origin).toBe('generated');
        const tls = await ks.generate(instanceId, {
          algorithm: 'P-256',
          label: 'tls',
          purpose: 'tls',
        });
        expect(tls.backend).toBe('software');
        expect((await ks.health()).ok).toBe(true);
      });

      it('ok/a bound signer signs like sign()', async () => {
        const key = await ks.generate(instanceId, {
          algorithm: 'P-384',
          label: 'b',
          purpose: 'ca',
        });
        const signer = await ks.signer(instanceId, key.id, 'ecdsa-sha384');
        const pub = createPublicKey({ key: key.publicKeyDer, format: 'der', type: 'spki' });
        for (let i = 0; i < 3; i++) {
          const data = Buffer.from(`data ${i}`);
          expect(verify('sha384', data, pub, await signer(data))).toBe(true);
        }
        await expect(ks.signer(instanceId, key.id, 'rsa-pss-sha256')).rejects.toThrow(
          /cannot sign/,
        );
      });

      it('ok/delete removes the key; signing with it then fails', async () => {
        const key = await ks.generate(instanceId, {
          algorithm: 'P-256',
          label: 'gone',
          purpose: 'signing',
        });
        await ks.delete(instanceId, key.id);
        await expect(ks.sign(instanceId, key.id, Buffer.from('x'), 'ecdsa-sha256')).rejects.toThrow(
          /not found/,
        );
      });

      it('ok/private keys are sealed at rest', async () => {
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
        const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
        const key = await ks.import(instanceId, {
          pkcs8Der: pkcs8,
          label: 'imported',
          purpose: 'signing',
        });
        const row = await db.kysely
          .selectFrom('keys')
          .select('handle')
          .where('id', '=', key.id)
          .executeTakeFirstOrThrow();
        const rawScalar = pkcs8.subarray(pkcs8.length - 32 - 70, pkcs8.length - 70);
        expect(Buffer.from(row.handle).includes(pkcs8)).toBe(false);
        expect(Buffer.from(row.handle).includes(rawScalar)).toBe(false);
        expect(key.algorithm).toBe('P-256');
        expect(key.origin).toBe('imported');
        expect(key.backend).toBe('software');
      });

      it('fail/keys of another instance are not found', async () => {
        const key = await ks.generate(instanceId, {
          algorithm: 'P-256',
          label: 'mine',
          purpose: 'ca',
        });
        await expect(ks.sign('inst-b', key.id, Buffer.from('x'), 'ecdsa-sha256')).rejects.toThrow(
          /not found/,
        );
        expect((await ks.list('inst-b')).map((k) => k.id)).not.toContain(key.id);
      });

      it('fail/a sealed key copied to another row does not open', async () => {
        const sw = { algorithm: 'P-256', purpose: 'ca', backend: 'software' } as const;
        const a = await ks.generate(instanceId, { ...sw, label: 'a' });
        const b = await ks.generate(instanceId, { ...sw, label: 'b' });
        const rowA = await db.kysely
          .selectFrom('keys')
          .select('handle')
          .where('id', '=', a.id)
          .executeTakeFirstOrThrow();
        await db.kysely
          .updateTable('keys')
          .set({ handle: rowA.handle })
          .where('id', '=', b.id)
          .execute();
        await expect(ks.sign(instanceId, b.id, Buffer.from('x'), 'ecdsa-sha256')).rejects.toThrow(
          /failed authentication/,
        );
      });

      it('fail/only TLS keys can be exported to the TLS stack', async () => {
        const ca = await ks.generate(instanceId, {
          algorithm: 'P-256',
          label: 'ca',
          purpose: 'ca',
        });
        await expect(ks.tlsPrivateKeyPem(instanceId, ca.id)).rejects.toThrow(
          /only TLS endpoint keys/,
        );
        const tls = await ks.generate(instanceId, {
          algorithm: 'P-256',
          label: 'tls',
          purpose: 'tls',
        });
        expect(await ks.tlsPrivateKeyPem(instanceId, tls.id)).toMatch(/BEGIN PRIVATE KEY/);
      });

      it('fail/import of something that is not a key', async () => {
        await expect(
          ks.import(instanceId, { pkcs8Der: Buffer.from('nope'), label: 'x', purpose: 'signing' }),
        ).rejects.toThrow(/not a PKCS#8/);
      });

      it('fail/wrong scheme for the key type', async () => {
        const key = await ks.generate(instanceId, {
          algorithm: 'P-256',
          label: 'e',
          purpose: 'signing',
        });
        await expect(
          ks.sign(instanceId, key.id, Buffer.from('x'), 'rsa-pss-sha256'),
        ).rejects.toThrow(/cannot sign/);
      });

      if (backend === 'pkcs11') {
        it('ok/HSM keys are sensitive and never extractable; delete destroys them in the token', async () => {
          const lib = pkcs11js();
          const key = await ks.generate(instanceId, {
            algorithm: 'RSA-3072',
            label: 'hsm',
            purpose: 'signing',
          });
          const row = await db.kysely
            .selectFrom('keys')
            .select('handle')
            .where('id', '=', key.id)
            .executeTakeFirstOrThrow();
          // The handle is the 16-byte CKA_ID, not key material.
          expect(Buffer.from(row.handle).length).toBe(16);
          const t = token!;
          const mod = openPkcs11Module(t.module);
          const p11 = mod.p11;
          const slot = p11
            .C_GetSlotList(true)
            .find((sl) => p11.C_GetTokenInfo(sl).label.trim() === t.tokenLabel)!;
          const s = p11.C_OpenSession(slot, lib.CKF_SERIAL_SESSION);
          try {
            p11.C_Login(s, lib.CKU_USER, t.pin);
          } catch {
            /* the backend's session already logged the token in */
          }
          const find = () => {
            p11.C_FindObjectsInit(s, [{ type: lib.CKA_ID, value: Buffer.from(row.handle) }]);
            const found = p11.C_FindObjects(s, 10);
            p11.C_FindObjectsFinal(s);
            return found;
          };
          const objs = find();
          expect(objs.length).toBe(2);
          const priv = objs.find(
            (o) =>
              p11
                .C_GetAttributeValue(s, o, [{ type: lib.CKA_CLASS }])[0]!
                .value!.readUInt32LE(0) === lib.CKO_PRIVATE_KEY,
          )!;
          const attrs = p11.C_GetAttributeValue(s, priv, [
            { type: lib.CKA_SENSITIVE },
            { type: lib.CKA_EXTRACTABLE },
          ]);
          expect(attrs.map((a) => (a.value as Buffer)[0])).toEqual([1, 0]);
          expect(() =>
            p11.C_GetAttributeValue(s, priv, [{ type: lib.CKA_PRIVATE_EXPONENT }]),
          ).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
          await ks.delete(instanceId, key.id);
          expect(find().length).toBe(0);
          p11.C_CloseSession(s);
          mod.release();
        });

        it('ok/a PKCS#8 key imported through the backend signs inside the token', async () => {
          const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
          const made = await hsm!.import(privateKey.export({ type: 'pkcs8', format: 'der' }), {
            instanceId,
            keyId: 'imp',
            label: 'imp',
          });
          const pub = createPublicKey({ key: made.publicKeyDer, format: 'der', type: 'spki' });
          const data = Buffer.from('through the token');
          const ctx = { instanceId, keyId: 'imp', label: 'imp' };
          expect(
            verify(
              'sha256',
              data,
              pub,
              await hsm!.sign(made.handle, data, 'rsa-pkcs1-sha256', ctx),
            ),
          ).toBe(true);
          const pss = await hsm!.sign(made.handle, data, 'rsa-pss-sha256', ctx);
          expect(
            verify(
              'sha256',
              data,
              { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
              pss,
            ),
          ).toBe(true);
          await hsm!.destroy(made.handle, ctx);
          await expect(hsm!.sign(made.handle, data, 'rsa-pkcs1-sha256', ctx)).rejects.toThrow(
            /no private key/,
          );
        });
      }
    });
  }
