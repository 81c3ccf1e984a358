import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database.js';
import { MIGRATIONS } from './migrations/index.js';

function provider(db: Db): MigrationProvider {
  return {
    getMigrations: async () =>
      Object.fromEntries(
        Object.entries(MIGRATIONS).map(([name, m]): [string, Migration] => [
          name,
          { up: (k) => m.up(k, db.dialect), down: (k) => m.down(k, db.dialect) },
        ]),
      ),
  };
}

/** Brings the schema to the latest version; all pending migrations run in one transaction. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({
    db: db.kysely,
    provider: provider(db),
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when the database holds no Trustlink schema yet. */
export async function isEmptyDatabase(db: Db): Promise<boolean> {
  const tables = await db.kysely.introspection.getTables();
  return !tables.some((t) => t.name === 'instances');
}
