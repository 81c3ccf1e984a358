import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { Connection } from '../database-direct/database-direct-types.js';
import type { Duration } from '../lib/duration.js';
import type { TestPrincipal } from './test-auth.js';
import { TEST_POSTGRES_URL } from './test-databases.js';
import type { TestServer } from './test-server.js';

/** The MariaDB server of this machine, as its administrator (tests make their own logins). */
export const TEST_MARIADB = {
  host: '127.0.0.1',
  port: 3306,
  user: 'root',
  password: '',
  database: 'test',
};

/** A row the data endpoint wrote, as a test reads it back. */
export interface DeviceRecordRow {
  device_id: string;
  received_at: Date;
  document: unknown;
}

/** A target database for device records, with the login a connection uses. */
export interface DatabaseTarget {
  name: string;
  user: string;
  password: string;
  /** Every row of a collection table, oldest first (read as the administrator). */
  rows(table: string): Promise<DeviceRecordRow[]>;
  drop(): Promise<void>;
}

/** A PostgreSQL database for device records, owned by a login of its own (not a superuser). */
export async function pgTarget(): Promise<DatabaseTarget> {
  const tag = randomBytes(5).toString('hex');
  const name = `dd_target_${tag}`;
  const user = `dd_writer_${tag}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(
      `CREATE ROLE ${user} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${password}'`,
    );
    await admin.query(`CREATE DATABASE ${name} OWNER ${user}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    name,
    user,
    password,
    async rows(table: string) {
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      try {
        return (await c.query(`SELECT device_id, received_at, document FROM ${table} ORDER BY id`))
          .rows;
      } finally {
        await c.end();
      }
    },
    async drop() {
      const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.query(`DROP ROLE IF EXISTS ${user}`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A MariaDB database for device records and a login with rights on it alone. */
export async function mariaTarget(): Promise<DatabaseTarget> {
  const tag = randomBytes(5).toString('hex');
  const name = `dd_target_${tag}`;
  const user = `dd_w_${tag}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const root = await mysql.createConnection(TEST_MARIADB);
  try {
    await root.query(`CREATE DATABASE ${name}`);
    for (const host of ['127.0.0.1', 'localhost']) {
      await root.query(`CREATE USER '${user}'@'${host}' IDENTIFIED BY '${password}'`);
      await root.query(`GRANT CREATE, INSERT ON ${name}.* TO '${user}'@'${host}'`);
    }
  } finally {
    await root.end();
  }
  return {
    name,
    user,
    password,
    async rows(table: string) {
      const c = await mysql.createConnection(TEST_MARIADB);
      try {
        const [rows] = await c.query(
          `SELECT device_id, received_at, document FROM ${name}.${table} ORDER BY id`,
        );
        // MariaDB keeps JSON as text: hand back the document parsed, as PostgreSQL does.
        return (rows as { device_id: string; received_at: Date; document: unknown }[]).map((r) => ({
          ...r,
          document: typeof r.document === 'string' ? JSON.parse(r.document) : r.document,
        }));
      } finally {
        await c.end();
      }
    },
    async drop() {
      const c = await mysql.createConnection(TEST_MARIADB);
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
        for (const host of ['127.0.0.1', 'localhost'])
          await c.query(`DROP USER IF EXISTS '${user}'@'${host}'`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Creates a database-direct connection through the management API. */
export async function createDatabaseConnection(
  server: TestServer,
  admin: TestPrincipal,
  body: Record<string, unknown>,
): Promise<Connection> {
  const r = await server.request('POST', '/api/v1/database-connections', {
    headers: admin.headers,
    body,
  });
  if (r.status !== 201) throw new Error(`database connection: ${r.status} ${r.text}`);
  return r.json<Connection>();
}

/** A database-direct policy on a connection and a batch following it; returns their ids. */
export async function databaseDirectPolicyAndBatch(
  server: TestServer,
  admin: TestPrincipal,
  name: string,
  connectionId: string,
  jwtLifetime: Duration = { value: 10, unit: 'minutes' },
): Promise<{ policyId: string; batchId: string }> {
  const p = await server.request('POST', '/api/v1/policies', {
    headers: admin.headers,
    body: {
      name,
      connectionType: 'database-direct',
      databaseConnectionId: connectionId,
      jwtLifetime,
      deviceCertificate: { lifetime: { value: 1, unit: 'years' } },
      issuingCertificate: { lifetime: { value: 5, unit: 'years' } },
    },
  });
  if (p.status !== 201) throw new Error(`policy: ${p.status} ${p.text}`);
  const policyId = p.json<{ id: string }>().id;
  const b = await server.request('POST', '/api/v1/batches', {
    headers: admin.headers,
    body: { name, policyId },
  });
  if (b.status !== 201) throw new Error(`batch: ${b.status} ${b.text}`);
  return { policyId, batchId: b.json<{ id: string }>().id };
}
