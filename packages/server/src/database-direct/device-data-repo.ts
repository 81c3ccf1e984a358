import { connect, isIP } from 'node:net';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { COLLECTION_PATTERN } from './database-direct-fns.js';
import type { DatabaseDirectType } from './database-direct-types.js';

/** Everything needed to reach a user's database; the address is the one the guard checked. */
export interface TargetDatabase {
  type: DatabaseDirectType;
  /** The host name the user gave (TLS server name) and the address checked for it. */
  host: string;
  address: string;
  port: number;
  database: string;
  username: string;
  password: string;
  tls: boolean;
  caCertificate: string | null;
}

/** One row as the data endpoint writes it. */
export interface DeviceRecord {
  collection: string;
  deviceId: string;
  receivedAt: Date;
  /** The document, already checked and serialised (database-direct-fns checkDocument). */
  json: string;
}

interface Writer {
  insert(r: DeviceRecord): Promise<void>;
  close(): Promise<void>;
}

const POOL_SIZE = 4;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Creates each collection's table once per pool: writes arriving together wait for the one
 * CREATE. Another process (a replica) may create the same table at that moment, and
 * PostgreSQL then fails the loser on its catalogue's unique indexes rather than skipping;
 * one more CREATE ... IF NOT EXISTS sees the committed table and skips.
 */
function tableMaker(create: (quotedTable: string) => Promise<unknown>) {
  const made = new Map<string, Promise<void>>();
  return {
    ensure(table: string): Promise<void> {
      let p = made.get(table);
      if (!p) {
        p = create(table)
          .catch(() => create(table))
          .then(() => undefined);
        made.set(table, p);
        // A failure is not remembered: the next write tries again.
        p.catch(() => made.delete(table));
      }
      return p;
    },
  };
}

/**
 * Writes device records into users' PostgreSQL and MariaDB databases: one table per collection
 * (device_id, received_at, document), created when first written. Collection names are
 * checked against COLLECTION_PATTERN and quoted by the driver; values always travel as
 * parameters. Pools are kept per connection and version, and closed when the connection
 * changes.
 */
export function createDeviceDataRepo() {
  // One pool per connection: the entry is stored before the target is resolved, so requests
  // arriving together share it instead of each opening (and leaking) a pool.
  const writers = new Map<string, { version: string; writer: Promise<Writer> }>();
  const closeWriter = (w: { writer: Promise<Writer> }) =>
    w.writer.then((x) => x.close()).catch(() => undefined);

  /**
   * Verified TLS: the server's certificate must chain to the connection's CA (or the system
   * roots) and name the host the user gave, although the socket goes to the checked address.
   */
  function tlsOptions(t: TargetDatabase) {
    if (!t.tls) return undefined;
    return {
      rejectUnauthorized: true,
      // SNI never carries an IP address (RFC 6066); Node then checks the IP against the SANs.
      ...(isIP(t.host) ? {} : { servername: t.host }),
      ...(t.caCertificate ? { ca: t.caCertificate } : {}),
    };
  }

  function postgres(t: TargetDatabase): Writer {
    const pool = new pg.Pool({
      host: t.address,
      port: t.port,
      database: t.database,
      user: t.username,
      password: t.password,
      ssl: tlsOptions(t) ?? false,
      max: POOL_SIZE,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      statement_timeout: 10_000,
    });
    // An idle client that loses its server must not take the process down.
    pool.on('error', () => undefined);
    const tables = tableMaker((table) =>
      pool.query(
        `CREATE TABLE IF NOT EXISTS ${table} (id bigserial PRIMARY KEY, device_id text NOT NULL, received_at timestamptz NOT NULL, document jsonb NOT NULL)`,
      ),
    );
    return {
      async insert(r) {
        const table = pg.escapeIdentifier(r.collection);
        await tables.ensure(table);
        await pool.query(
          `INSERT INTO ${table} (device_id, received_at, document) VALUES ($1, $2, $3::jsonb)`,
          [r.deviceId, r.receivedAt.toISOString(), r.json],
        );
      },
      close: () => pool.end(),
    };
  }

  function mariadb(t: TargetDatabase): Writer {
    const pool = mysql.createPool({
      // The driver names the server by `host` (TLS identity); the socket goes to the checked
      // address, so a second DNS answer cannot redirect it.
      host: t.host,
      port: t.port,
      stream: () => connect({ host: t.address, port: t.port }),
      database: t.database,
      user: t.username,
      password: t.password,
      ssl: t.tls ? { ...tlsOptions(t), verifyIdentity: true } : undefined,
      connectionLimit: POOL_SIZE,
      connectTimeout: CONNECT_TIMEOUT_MS,
      timezone: 'Z',
      multipleStatements: false,
    });
    const tables = tableMaker((table) =>
      pool.query(
        `CREATE TABLE IF NOT EXISTS ${table} (id BIGINT AUTO_INCREMENT PRIMARY KEY, device_id VARCHAR(64) NOT NULL, received_at DATETIME(3) NOT NULL, document JSON NOT NULL)`,
      ),
    );
    return {
      async insert(r) {
        const table = mysql.escapeId(r.collection);
        await tables.ensure(table);
        await pool.execute(
          `INSERT INTO ${table} (device_id, received_at, document) VALUES (?, ?, ?)`,
          [r.deviceId, r.receivedAt, r.json],
        );
      },
      close: () => pool.end(),
    };
  }

  return {
    /**
     * Inserts one record for the connection `key` (its id); `version` (its last change) makes
     * a changed connection reconnect with its new settings. `target` is asked only when a pool
     * is made.
     */
    async insert(
      key: string,
      version: string,
      target: () => Promise<TargetDatabase>,
      r: DeviceRecord,
    ) {
      if (!COLLECTION_PATTERN.test(r.collection)) throw new Error('collection name not checked');
      let w = writers.get(key);
      if (w && w.version !== version) {
        writers.delete(key);
        void closeWriter(w);
        w = undefined;
      }
      if (!w) {
        // Resolved (and checked) when the pool is made; the pool then keeps that address.
        const made = target().then((t) => (t.type === 'postgresql' ? postgres(t) : mariadb(t)));
        w = { version, writer: made };
        writers.set(key, w);
        // A target refused now may be allowed later (allow-list, DNS): do not keep the failure.
        made.catch(() => {
          if (writers.get(key) === w) writers.delete(key);
        });
      }
      await (await w.writer).insert(r);
    },
    /** Closes the pool of a changed or removed connection. */
    async forget(key: string): Promise<void> {
      const w = writers.get(key);
      writers.delete(key);
      if (w) await closeWriter(w);
    },
    async close(): Promise<void> {
      const all = [...writers.values()];
      writers.clear();
      await Promise.all(all.map(closeWriter));
    },
  };
}
export type DeviceDataRepo = ReturnType<typeof createDeviceDataRepo>;
