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

for (const dialect of TEST_DIALECTS) {
  describe(`software key store on ${dialect}`, () => {
    let tdb: TestDatabase;
    let db: Db;
    let ks: KeyStore;
    const instanceId = 'inst-a';

    beforeAll(async () => {
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
      ks = createKeyStore({ repo: createKeyRepo(db.kysely), software: createSoftwareBackend(box) });
    });
    afterAll(async () => {
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
      const a = await ks.generate(instanceId, { algorithm: 'P-256', label: 'a', purpose: 'ca' });
      const b = await ks.generate(instanceId, { algorithm: 'P-256', label: 'b', purpose: 'ca' });
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
      const ca = await ks.generate(instanceId, { algorithm: 'P-256', label: 'ca', purpose: 'ca' });
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
      await expect(ks.sign(instanceId, key.id, Buffer.from('x'), 'rsa-pss-sha256')).rejects.toThrow(
        /cannot sign/,
      );
    });
  });
}
