/**
 * bench/database-direct: device records written per second through the data endpoint
 * (HTTPS, JWT check with the connection's key, device and policy look-ups, INSERT into the
 * user's PostgreSQL), beside the peer measured in the same run: the same INSERTs sent
 * straight to the same PostgreSQL from a pg pool of the same size, which is the most any
 * writer in Node can do here. An HTTPS round trip to the same server (GET /healthz) is
 * measured too: the floor of any endpoint.
 *
 * Wall-clock rates, best of BENCH_ROUNDS, rounds interleaved so the machine's load hits both
 * alike. The platform itself runs on each of BENCH_DIALECTS in turn (its own database:
 * sqlite, postgres or both); the figures go into docs/benchmarks.md between the
 * `bench:database-direct` markers (bench-report.ts; BENCH_DOCS=0 leaves the file alone).
 *
 *   npm run bench:database-direct     (BENCH_N=600 writes, BENCH_C=8 in flight, BENCH_ROUNDS=3,
 *                                      BENCH_DIALECTS=sqlite,postgres)
 */
import 'reflect-metadata';
import https from 'node:https';
import { cpus, loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DatabaseTokenResponse } from '@trustlink/protocol';
import type { DialectName } from '../../packages/server/src/db/database.js';
import { toPem } from '../../packages/server/src/pki/certificate-builder.js';
import { createTestUsers } from '../../packages/server/src/test-helpers/test-auth.js';
import { TEST_POSTGRES_URL } from '../../packages/server/src/test-helpers/test-databases.js';
import {
  devicePost,
  enrolBody,
  register,
  testDevice,
  tlsAs,
} from '../../packages/server/src/test-helpers/test-devices.js';
import { startTestServer } from '../../packages/server/src/test-helpers/test-server.js';
import { writeSection } from '../bench-report.js';

const N = Number(process.env.BENCH_N ?? 600);
const C = Number(process.env.BENCH_C ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// BENCH_DIALECT (one) is still understood, as the docs used to say.
const DIALECTS = (process.env.BENCH_DIALECTS ?? process.env.BENCH_DIALECT ?? 'sqlite,postgres')
  .split(',')
  .map((d) => d.trim())
  .filter(Boolean) as DialectName[];
for (const d of DIALECTS)
  if (d !== 'sqlite' && d !== 'postgres') throw new Error(`BENCH_DIALECTS: unknown dialect ${d}`);
const LABEL: Record<DialectName, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

interface Result {
  dialect: DialectName;
  endpoint: number;
  direct: number;
  https: number;
  load: number;
}

const doc = (i: number) => ({ seq: i, temperature: 20 + (i % 10) / 10, unit: 'C', ok: true });

/** Runs `n` tasks with `c` in flight; returns writes per wall-second. */
async function rate(n: number, c: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) await task(next++);
    }),
  );
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** One platform database: a server on it, a device with a token, the three rates. */
async function measureOn(
  dialect: DialectName,
  target: { dbName: string; user: string; password: string },
): Promise<Result> {
  const { dbName, user, password } = target;

  const server = await startTestServer(dialect, {
    env: { TRUSTLINK_OUTBOUND_ALLOW_LIST: '127.0.0.1' },
  });
  const peer = new pg.Pool({
    host: '127.0.0.1',
    port: 5432,
    database: dbName,
    user,
    password,
    max: C,
  });
  const agent = new https.Agent({ keepAlive: true, maxSockets: C, ca: server.rootPem });
  try {
    const { admin: a } = await createTestUsers(server);
    const call = async (method: string, path: string, body: unknown) => {
      const r = await server.request(method, path, { headers: a.headers, body });
      if (r.status >= 300) throw new Error(`${path}: ${r.status} ${r.text}`);
      return r.json<{ id: string }>();
    };
    const conn = await call('POST', '/api/v1/database-connections', {
      name: 'Bench',
      type: 'postgresql',
      url: 'postgresql://127.0.0.1:5432',
      database: dbName,
      tls: false,
      username: user,
      password,
    });
    const policy = await call('POST', '/api/v1/policies', {
      name: 'Bench',
      connectionType: 'database-direct',
      databaseConnectionId: conn.id,
      jwtLifetime: { value: 1, unit: 'hours' },
      deviceCertificate: { lifetime: { value: 1, unit: 'years' } },
      issuingCertificate: { lifetime: { value: 5, unit: 'years' } },
    });
    const batch = await call('POST', '/api/v1/batches', { name: 'Bench', policyId: policy.id });
    const d = await testDevice();
    await register(server, a, batch.id, d.deviceId);
    const e = await devicePost(server, '/device/v1/enrol', enrolBody(d), tlsAs(d));
    const certPem = toPem(Buffer.from(e.json<{ certificate: string }>().certificate, 'base64url'));
    const t = await devicePost(server, '/device/v1/database-token', '{}', tlsAs(d, certPem));
    const { token } = t.json<DatabaseTokenResponse>();

    await peer.query(
      'CREATE TABLE IF NOT EXISTS peer_direct (id bigserial PRIMARY KEY, device_id text NOT NULL, received_at timestamptz NOT NULL, document jsonb NOT NULL)',
    );
    const url = new URL('/device/v1/data/bench', server.deviceUrl);
    const viaEndpoint = (i: number) =>
      new Promise<void>((resolve, reject) => {
        const body = JSON.stringify(doc(i));
        const req = https.request(
          url,
          {
            method: 'POST',
            agent,
            servername: 'localhost',
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () =>
              res.statusCode === 201 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
            );
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    // The floor of any endpoint of this server: an HTTPS round trip on the same agent.
    const healthz = () =>
      new Promise<void>((resolve, reject) => {
        const req = https.request(
          new URL('/healthz', server.deviceUrl),
          { agent, servername: 'localhost' },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
        req.end();
      });
    const direct = async (i: number) => {
      await peer.query(
        'INSERT INTO peer_direct (device_id, received_at, document) VALUES ($1, $2, $3::jsonb)',
        [d.deviceId, new Date().toISOString(), JSON.stringify(doc(i))],
      );
    };

    await rate(Math.min(50, N), C, viaEndpoint); // warm-up: pools, JIT
    await rate(Math.min(50, N), C, direct);
    const best = { endpoint: 0, direct: 0, https: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      best.endpoint = Math.max(best.endpoint, await rate(N, C, viaEndpoint));
      best.direct = Math.max(best.direct, await rate(N, C, direct));
      best.https = Math.max(best.https, await rate(N, C, healthz));
    }
    const rows = await peer.query('SELECT count(*)::int AS n FROM bench');
    console.log(
      `database direct: ${N} writes x ${ROUNDS} rounds, ${C} in flight, platform on ${dialect}; ` +
        `${cpus().length} CPUs (${cpus()[0]?.model}), load ${loadavg()[0]!.toFixed(1)}, Node ${process.version}`,
    );
    console.log(`  peer: INSERT straight into PostgreSQL   ${best.direct.toFixed(0)} writes/s`);
    console.log(`  HTTPS round trip only (GET /healthz)    ${best.https.toFixed(0)} requests/s`);
    console.log(`  data endpoint (HTTPS + JWT + INSERT)    ${best.endpoint.toFixed(0)} writes/s`);
    console.log(
      `  ratio endpoint / peer                   ${(best.endpoint / best.direct).toFixed(2)}`,
    );
    console.log(`  rows in the collection table so far: ${rows.rows[0].n}`);
    return { dialect, ...best, load: loadavg()[0]! };
  } finally {
    agent.destroy();
    await peer.end();
    await server.close();
  }
}

async function main() {
  const tag = randomBytes(4).toString('hex');
  const dbName = `dd_bench_${tag}`;
  const user = `dd_bench_${tag}`;
  const password = randomBytes(12).toString('base64url');
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
  await admin.query(`CREATE DATABASE ${dbName} OWNER ${user}`);
  await admin.end();
  const results: Result[] = [];
  try {
    for (const dialect of DIALECTS)
      results.push(await measureOn(dialect, { dbName, user, password }));
  } finally {
    const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.query(`DROP ROLE IF EXISTS ${user}`);
    await c.end();
  }
  const n = (x: number) => `${Math.round(x).toLocaleString('en-US')} /s`;
  await writeSection('database-direct', {
    title: 'Database direct (`npm run bench:database-direct`)',
    header: [
      'platform database',
      'peer: INSERT straight',
      'HTTPS round trip',
      '**data endpoint**',
      'endpoint / peer',
    ],
    rows: results.map((r) => [
      `${LABEL[r.dialect]} (load ${r.load.toFixed(0)})`,
      n(r.direct),
      n(r.https),
      `**${n(r.endpoint)}**`,
      (r.endpoint / r.direct).toFixed(2),
    ]),
    notes: [
      `${N} writes per round, ${C} in flight, best of ${ROUNDS} rounds, rounds interleaved; the load average beside each platform database is the one at the end of its rounds.`,
      'On a shared machine the absolute rates move from run to run; the ratios within one run are what to compare.',
    ],
  });
}

await main();
