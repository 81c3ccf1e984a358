import { constants, sign, type KeyObject } from 'node:crypto';
import { openDatabase } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrator.js';
import { createInstanceRepo } from '../../instances/instance-repo.js';
import { createKeyRepo } from '../../keystore/keystore-repo.js';
import { createKeyStore } from '../../keystore/keystore-service.js';
import type { KeyStore } from '../../keystore/keystore-types.js';
import { createSoftwareBackend } from '../../keystore/software-backend.js';
import { generateMasterKey, makeRing } from '../../secrets/master-key.js';
import { createSecretBox } from '../../secrets/secret-box.js';
import { createTestDatabase } from '../../test-helpers/test-databases.js';
import type { FirmwareSigner } from '../firmware-signer.js';

/**
 * A signer over a node:crypto private key with the key store's conventions (hash from the
 * scheme, PSS salt = hash length, ECDSA as DER), for tests that need no database.
 */
export function nodeKeySigner(privateKey: KeyObject): FirmwareSigner {
  return async (data, scheme) => {
    const hash = scheme.endsWith('384') ? 'sha384' : 'sha256';
    if (scheme.startsWith('rsa-pss')) {
      return sign(hash, data, {
        key: privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: hash === 'sha256' ? 32 : 48,
      });
    }
    return sign(hash, data, privateKey);
  };
}

/**
 * The real key store with its software backend on a throwaway SQLite database. Format code is
 * independent of the database, so one dialect is enough here.
 */
export async function openTestKeyStore(): Promise<{
  keystore: KeyStore;
  instanceId: string;
  close(): Promise<void>;
}> {
  const tdb = await createTestDatabase('sqlite');
  const db = await openDatabase(tdb.url);
  await migrateToLatest(db);
  const instanceId = 'firmware-test';
  await createInstanceRepo(db.kysely).insert({
    id: instanceId,
    name: 'firmware test',
    createdAt: new Date().toISOString(),
    claimedAt: null,
  });
  const ring = makeRing([generateMasterKey()], 'test');
  const box = createSecretBox(() => ring);
  const keystore = createKeyStore({
    repo: createKeyRepo(db.kysely),
    software: createSoftwareBackend(box),
  });
  return {
    keystore,
    instanceId,
    async close() {
      await db.close();
      await tdb.drop();
    },
  };
}
