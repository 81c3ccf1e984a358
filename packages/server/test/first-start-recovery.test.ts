import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../src/db/database.js';
import type { KeyStore } from '../src/keystore/keystore-types.js';
import {
  createTestDatabase,
  TEST_DIALECTS,
  type TestDatabase,
} from '../src/test-helpers/test-databases.js';
import { createSoftHsmToken, type TestToken } from '../src/test-helpers/test-hsm.js';
import { opensslAsync, scratch } from '../src/test-helpers/test-openssl.js';
import { startTestServer, testConfig, type TestServer } from '../src/test-helpers/test-server.js';

const CRASHING = fileURLToPath(
  new URL('../src/test-helpers/crashing-first-start.ts', import.meta.url),
);

/** A fault injected into one first start: it may also change the database (a trigger). */
interface Fault {
  name: string;
  wrap(ks: KeyStore, db: Db): KeyStore;
  /** The master key given in the environment (kept by both starts) instead of a key file. */
  masterKey?: string;
  /** What the cut-short start leaves, checked before the next start. */
  leaves: { instances: number; caCertificates: number; keys: number };
}

const failing = (what: string) => new Error(`injected failure: ${what}`);

/** Makes every insert into ca_certificates fail, as a database error would. */
async function breakCaInserts(db: Db): Promise<void> {
  if (db.dialect === 'sqlite') {
    await sql`create trigger injected_ca_failure before insert on ca_certificates
      begin select raise(abort, 'injected database failure'); end`.execute(db.kysely);
    return;
  }
  await sql`create function injected_ca_failure() returns trigger language plpgsql as
    $$ begin raise exception 'injected database failure'; end $$`.execute(db.kysely);
  await sql`create trigger injected_ca_failure before insert on ca_certificates
    for each row execute function injected_ca_failure()`.execute(db.kysely);
}

async function repairCaInserts(db: Db): Promise<void> {
  await sql`drop trigger if exists injected_ca_failure${sql.raw(db.dialect === 'postgres' ? ' on ca_certificates' : '')}`.execute(
    db.kysely,
  );
  if (db.dialect === 'postgres')
    await sql`drop function if exists injected_ca_failure()`.execute(db.kysely);
}

/** The steps of a first start, each cut short once: key store, then database, then TLS. */
const FAULTS: Fault[] = [
  {
    name: 'the key store fails to make the root key',
    wrap: (ks) => ({
      ...ks,
      async generate(i, input) {
        if (input.purpose === 'ca') throw failing('root key generation');
        return ks.generate(i, input);
      },
    }),
    leaves: { instances: 1, caCertificates: 0, keys: 0 },
  },
  {
    name: 'the key store fails to sign the root certificate',
    wrap: (ks) => ({
      ...ks,
      async sign() {
        throw failing('root signature');
      },
    }),
    leaves: { instances: 1, caCertificates: 0, keys: 1 },
  },
  {
    name: 'the database fails to store the root certificate',
    masterKey: Buffer.alloc(32, 7).toString('base64'),
    wrap: (ks, db) => ({
      ...ks,
      async generate(i, input) {
        const made = await ks.generate(i, input);
        if (input.purpose === 'ca') await breakCaInserts(db);
        return made;
      },
    }),
    leaves: { instances: 1, caCertificates: 0, keys: 1 },
  },
  {
    name: 'the key store fails to make the TLS key',
    wrap: (ks) => ({
      ...ks,
      async generate(i, input) {
        if (input.purpose === 'tls') throw failing('TLS key generation');
        return ks.generate(i, input);
      },
    }),
    leaves: { instances: 1, caCertificates: 1, keys: 2 },
  },
  {
    // The TLS key made, its certificate not: the key goes again, the next start makes another.
    name: 'the key store fails to sign the TLS certificate',
    wrap: (ks) => {
      let tlsKeyMade = false;
      return {
        ...ks,
        async generate(i, input) {
          const made = await ks.generate(i, input);
          if (input.purpose === 'tls') tlsKeyMade = true;
          return made;
        },
        async sign(i, keyId, data, scheme) {
          if (tlsKeyMade) throw failing('TLS certificate signature');
          return ks.sign(i, keyId, data, scheme);
        },
      };
    },
    leaves: { instances: 1, caCertificates: 1, keys: 2 },
  },
];

/** Labels of the private keys in a SoftHSM2 token, read by another process (pkcs11-tool). */
function tokenKeyLabels(token: TestToken): string[] {
  const out = execFileSync(
    'pkcs11-tool',
    [
      '--module',
      token.module,
      '--token-label',
      token.tokenLabel,
      '--login',
      '--pin',
      token.pin,
    ].concat(['--list-objects', '--type', 'privkey']),
    { env: { ...process.env, SOFTHSM2_CONF: token.conf }, encoding: 'utf8', stdio: 'pipe' },
  );
  return [...out.matchAll(/label:\s+(.+)/g)].map((m) => m[1]!.trim());
}

async function counts(db: Db) {
  const n = async (table: 'instances' | 'ca_certificates' | 'keys') =>
    Number(
      (
        await db.kysely
          .selectFrom(table)
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    instances: await n('instances'),
    caCertificates: await n('ca_certificates'),
    keys: await n('keys'),
  };
}

/**
 * A first start cut short between its steps leaves a half-made instance (a crash leaves the
 * same; an error on PostgreSQL or on a database file that existed before cannot be undone by
 * removing files). The next ordinary start finishes it into a complete, working instance.
 */
for (const dialect of TEST_DIALECTS) {
  describe(`a first start cut short, then started again, on ${dialect}`, () => {
    let database: TestDatabase | undefined;
    let home: string | undefined;
    let server: TestServer | undefined;
    let db: Db | undefined;
    afterEach(async () => {
      await server?.close();
      await db?.close();
      await database?.drop();
      if (home) rmSync(home, { recursive: true, force: true });
      server = db = database = home = undefined;
    });

    for (const fault of FAULTS) {
      it(`ok/${fault.name}: the next start finishes the instance`, async () => {
        database = await createTestDatabase(dialect);
        home = mkdtempSync(path.join(os.tmpdir(), 'trustlink-home-'));
        // On SQLite the file exists before the start (provisioned by the operator, or left by a
        // crash), so the failed start cannot simply delete it: the half-made state stays.
        if (dialect === 'sqlite') writeFileSync(database.url.slice('sqlite:'.length), '');
        db = await openDatabase(database.url);
        const probe = db;

        // A key file generated by the failed start is removed with it; a given key stays.
        const env: Record<string, string> = fault.masterKey
          ? { TRUSTLINK_MASTER_KEY: fault.masterKey }
          : {};
        await expect(
          startTestServer(dialect, {
            database,
            home,
            env,
            keyStore: (ks) => fault.wrap(ks, probe),
          }),
        ).rejects.toThrow(/injected/);
        expect(await counts(db)).toEqual(fault.leaves);
        await repairCaInserts(db);

        server = await startTestServer(dialect, { database, home, env });
        expect(server.runtime.created).toBe(fault.leaves.caCertificates === 0);
        const health = await server.request('GET', '/healthz');
        expect(health.status).toBe(200);

        // One instance, one root and one TLS certificate, and no key left from the cut start:
        // the root, the TLS key and the audit log's key.
        const after = await counts(db);
        expect(after).toEqual({ instances: 1, caCertificates: 2, keys: 3 });
        const id = server.runtime.instance.id;
        const unreferenced = await db.kysely
          .selectFrom('keys')
          .select('id')
          .where('instance_id', '=', id)
          .where('purpose', '=', 'ca')
          .where('id', 'not in', db.kysely.selectFrom('ca_certificates').select('key_id'))
          .execute();
        expect(unreferenced).toEqual([]);

        // The TLS chain the management port presents verifies against the root.
        const files = scratch();
        try {
          const root = files.file('root.pem', server.rootPem);
          const port = new URL(server.managementUrl).port;
          const r = await opensslAsync([
            's_client',
            '-connect',
            `127.0.0.1:${port}`,
            '-servername',
            'localhost',
            '-CAfile',
            root,
            '-verify_return_error',
            '-verify_hostname',
            'localhost',
          ]);
          expect(r.out).toMatch(/Verify return code: 0 \(ok\)/);
          expect(r.status).toBe(0);
        } finally {
          files.remove();
        }
      }, 60_000);
    }

    it('ok/a process killed in the middle of its first start: the next start finishes it', async () => {
      database = await createTestDatabase(dialect);
      home = mkdtempSync(path.join(os.tmpdir(), 'trustlink-home-'));
      const config = testConfig(home, database.url);
      // A real crash: nothing is cleaned up, not even a SQLite file or key file made just now.
      const child = spawnSync(process.execPath, ['--import', 'tsx', CRASHING], {
        env: {
          PATH: process.env.PATH ?? '',
          TRUSTLINK_DATA_DIR: config.dataDir,
          TRUSTLINK_MASTER_KEY_FILE: config.masterKeyFile,
          TRUSTLINK_DATABASE_URL: database.url,
          TRUSTLINK_MANAGEMENT_PORT: '0',
          TRUSTLINK_DEVICE_PORT: '0',
          TRUSTLINK_PKI_HTTP_PORT: '0',
          TRUSTLINK_MQTT_PORT: '0',
          TRUSTLINK_BIND_ADDRESS: '127.0.0.1',
          TRUSTLINK_LOG_LEVEL: 'silent',
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(child.signal, child.stderr).toBe('SIGKILL');
      db = await openDatabase(database.url);
      expect(await counts(db)).toEqual({ instances: 1, caCertificates: 0, keys: 1 });

      server = await startTestServer(dialect, { database, home });
      expect(server.runtime.created).toBe(true);
      expect((await server.request('GET', '/healthz')).status).toBe(200);
      expect(await counts(db)).toEqual({ instances: 1, caCertificates: 2, keys: 3 });
    }, 90_000);

    it('ok/with an HSM, the root key a cut-short start made is destroyed in the token', async () => {
      database = await createTestDatabase(dialect);
      home = mkdtempSync(path.join(os.tmpdir(), 'trustlink-home-'));
      if (dialect === 'sqlite') writeFileSync(database.url.slice('sqlite:'.length), '');
      db = await openDatabase(database.url);
      const token = createSoftHsmToken();
      const env = {
        TRUSTLINK_KEYSTORE: 'pkcs11',
        TRUSTLINK_PKCS11_MODULE: token.module,
        TRUSTLINK_PKCS11_TOKEN_LABEL: token.tokenLabel,
        TRUSTLINK_PKCS11_PIN: token.pin,
      };
      const signFails = FAULTS[1]!;
      await expect(
        startTestServer(dialect, {
          database,
          home,
          env,
          keyStore: (ks) => signFails.wrap(ks, db!),
        }),
      ).rejects.toThrow(/injected/);
      const leftover = tokenKeyLabels(token);
      expect(leftover).toEqual([expect.stringMatching(/^default OEM root \(/)]);

      server = await startTestServer(dialect, { database, home, env });
      expect((await server.request('GET', '/healthz')).status).toBe(200);
      // The new root and the audit log's key; the leftover root key is gone.
      const now = tokenKeyLabels(token).filter((l) => l.startsWith('default OEM root'));
      expect(now, JSON.stringify(now)).toHaveLength(1);
      expect(now).not.toContain(leftover[0]);
      const root = await server.runtime.pki.root(server.runtime.instance.id);
      expect(now[0]).toContain(root.keyId);
    }, 60_000);
  });
}
