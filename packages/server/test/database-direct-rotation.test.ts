import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { rotateMasterKey } from '../src/secrets/master-key-rotation.js';
import { sealedKeyId } from '../src/secrets/secret-box.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { testCtx } from '../src/test-helpers/test-fleet.js';
import { startTestServer, testConfig } from '../src/test-helpers/test-server.js';

const silent = { info: () => undefined };

for (const dialect of TEST_DIALECTS) {
  describe(`master-key rotation with database direct credentials on ${dialect}`, () => {
    it('ok/connection credentials are re-sealed under the new key and still open', async () => {
      // A public address: creating a connection checks it but never connects.
      const first = await startTestServer(dialect);
      const i = first.runtime.instance.id;
      const { connections } = first.runtime.databaseDirect;
      const c = await connections.create(
        i,
        {
          name: 'Telemetry',
          type: 'postgresql',
          url: 'postgresql://93.184.216.34:5432',
          database: 'telemetry',
          dataSource: null,
          caCertificate: null,
          tls: true,
          username: 'writer',
          password: 'pa55-word',
        },
        testCtx,
      );
      const sealedWith = async (d: typeof first) =>
        sealedKeyId(
          Buffer.from(
            (
              await d.runtime.db.kysely
                .selectFrom('database_connections')
                .select('secrets')
                .where('id', '=', c.id)
                .executeTakeFirstOrThrow()
            ).secrets,
          ),
        );
      const before = await sealedWith(first);
      await first.close({ keepData: true });

      const db = await openDatabase(first.database.url);
      const result = await rotateMasterKey(testConfig(first.home, first.database.url), db, silent);
      await db.close();
      expect(result.newKeyId).not.toBe(before);

      const second = await startTestServer(dialect, { database: first.database, home: first.home });
      try {
        expect(await sealedWith(second)).toBe(result.newKeyId);
        const stored = await second.runtime.databaseDirect.connections.find(i, c.id);
        expect(second.runtime.databaseDirect.connections.secretsOf(i, stored!)).toEqual({
          username: 'writer',
          password: 'pa55-word',
        });
      } finally {
        await second.close();
      }
    });
  });
}
