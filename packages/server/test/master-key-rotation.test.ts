import { readFileSync } from 'node:fs';
import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { rotateMasterKey } from '../src/secrets/master-key-rotation.js';
import { readMasterKeyFile } from '../src/secrets/master-key.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { startTestServer, testConfig } from '../src/test-helpers/test-server.js';

const silent = { info: () => undefined };

for (const dialect of TEST_DIALECTS) {
  describe(`master-key rotate on ${dialect}`, () => {
    it('ok/re-seals every key; the server restarts on the new key; the old key is gone', async () => {
      const first = await startTestServer(dialect);
      const instanceId = first.runtime.instance.id;
      const signing = await first.runtime.keystore.generate(instanceId, {
        algorithm: 'P-256',
        label: 'sign',
        purpose: 'signing',
      });
      const rootBefore = first.rootPem;
      await first.close({ keepData: true });

      const config = testConfig(first.home, first.database.url);
      const oldRing = readMasterKeyFile(config.masterKeyFile);
      const db = await openDatabase(first.database.url);
      const result = await rotateMasterKey(config, db, silent);
      await db.close();
      expect(result.oldKeyId).toBe(oldRing.current.id);
      expect(result.rows).toBeGreaterThanOrEqual(3); // root, TLS and the signing key
      const newRing = readMasterKeyFile(config.masterKeyFile);
      expect(newRing.current.id).toBe(result.newKeyId);
      expect(newRing.all).toHaveLength(1);
      expect(readFileSync(config.masterKeyFile, 'utf8')).not.toContain(
        oldRing.current.key.toString('base64'),
      );

      const second = await startTestServer(dialect, { database: first.database, home: first.home });
      try {
        expect(second.rootPem).toBe(rootBefore);
        const data = Buffer.from('after rotation');
        const sig = await second.runtime.keystore.sign(
          instanceId,
          signing.id,
          data,
          'ecdsa-sha256',
        );
        expect(
          verify(
            'sha256',
            data,
            createPublicKey({ key: signing.publicKeyDer, format: 'der', type: 'spki' }),
            sig,
          ),
        ).toBe(true);
      } finally {
        await second.close({ keepData: true });
      }

      await expect(
        startTestServer(dialect, {
          database: first.database,
          home: first.home,
          env: { TRUSTLINK_MASTER_KEY: oldRing.current.key.toString('base64') },
        }),
      ).rejects.toThrow(/does not match this database/);
      await first.database.drop();
    });

    it('fail/rotation refuses a key from the environment', async () => {
      const first = await startTestServer(dialect);
      await first.close({ keepData: true });
      const key = readMasterKeyFile(
        testConfig(first.home, first.database.url).masterKeyFile,
      ).current.key.toString('base64');
      const config = testConfig(first.home, first.database.url, { TRUSTLINK_MASTER_KEY: key });
      const db = await openDatabase(first.database.url);
      try {
        await expect(rotateMasterKey(config, db, silent)).rejects.toThrow(/TRUSTLINK_MASTER_KEY/);
      } finally {
        await db.close();
        await first.database.drop();
      }
    });
  });
}
