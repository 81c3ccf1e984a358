import { openDatabase, type Db, type DialectName } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { createInstanceRepo } from '../instances/instance-repo.js';
import { createKeyRepo } from '../keystore/keystore-repo.js';
import { createKeyStore } from '../keystore/keystore-service.js';
import type { KeyBackend, KeyStore } from '../keystore/keystore-types.js';
import { createSoftwareBackend } from '../keystore/software-backend.js';
import { createCaRepo, type CaCertificateRecord } from '../pki/ca-repo.js';
import { createInstancePki } from '../pki/instance-pki.js';
import type { PkiAuditEntry } from '../pki/pki-audit.js';
import { createPki, type Pki } from '../pki/pki-module.js';
import { pkiUrls } from '../pki/pki-urls.js';
import { generateMasterKey, makeRing } from '../secrets/master-key.js';
import { createSecretBox } from '../secrets/secret-box.js';
import { createTestDatabase, type TestDatabase } from './test-databases.js';

/** A clock tests move by hand. */
export function testClock(start = new Date()) {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
    set(d: Date) {
      t = d.getTime();
    },
  };
}

export interface TestPki {
  db: Db;
  tdb: TestDatabase;
  keystore: KeyStore;
  pki: Pki;
  instanceId: string;
  otherInstanceId: string;
  root: CaCertificateRecord;
  audit: PkiAuditEntry[];
  clock: ReturnType<typeof testClock>;
  close(): Promise<void>;
}

/**
 * A migrated database with two instances (each with its OEM root), a key store on the given
 * HSM backend (software only when absent) and the PKI services, on a hand-moved clock.
 */
export async function createTestPki(
  dialect: DialectName,
  opts: { hsm?: KeyBackend; crlDebounceMs?: number; baseUrl?: string } = {},
): Promise<TestPki> {
  const tdb = await createTestDatabase(dialect);
  const db = await openDatabase(tdb.url);
  await migrateToLatest(db);
  const clock = testClock();
  const instances = createInstanceRepo(db.kysely);
  const ring = makeRing([generateMasterKey()], 'test');
  const keystore = createKeyStore({
    repo: createKeyRepo(db.kysely),
    software: createSoftwareBackend(createSecretBox(() => ring)),
    hsm: opts.hsm,
    now: clock.now,
  });
  const caRepo = createCaRepo(db.kysely);
  const instancePki = createInstancePki({ keystore, caRepo, now: clock.now });
  const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
  let root: CaCertificateRecord | undefined;
  for (const [i, id] of ids.entries()) {
    await instances.insert({
      id,
      name: `inst${i}`,
      createdAt: clock.now().toISOString(),
      claimedAt: null,
    });
    const r = await instancePki.createRoot(id, `inst${i}`);
    root ??= r;
  }
  const audit: PkiAuditEntry[] = [];
  const pki = createPki({
    db: db.kysely,
    keystore,
    caRepo,
    urls: pkiUrls(() => opts.baseUrl ?? 'http://pki.test:8080'),
    audit: async (_tx, entry) => void audit.push(entry),
    now: clock.now,
    crlDebounceMs: opts.crlDebounceMs ?? 50,
  });
  return {
    db,
    tdb,
    keystore,
    pki,
    instanceId: ids[0]!,
    otherInstanceId: ids[1]!,
    root: root!,
    audit,
    clock,
    async close() {
      await pki.stop();
      await db.close();
      await tdb.drop();
    },
  };
}
