/**
 * bench/dashboard: how long every dashboard and list call of the management API takes with a
 * large fleet in PostgreSQL (default 1,000,000 devices), measured through a real `trustlink
 * serve` process over HTTPS with an API token, as the console makes them. Beside each call,
 * in the same run, the peer: the same question asked of PostgreSQL directly (the query the
 * call is built on, with nothing around it), which is the least the call can cost.
 *
 * Goal (issue #11): every dashboard and list call under 100 ms.
 *
 *   npm run bench:dashboard             (BENCH_DEVICES=1000000, BENCH_REPEAT=20)
 *   BENCH_KEEP=1 keeps the seeded database and data directory for the next run with BENCH_KEEP=1,
 *   which then skips seeding (and applies any new migration to it, as an upgrade would).
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres   (where to create the
 *   throw-away database `trustlink_bench_dashboard`)
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { writeSection } from '../bench-report.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 1_000_000);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 100);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 20);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = 'trustlink_bench_dashboard';
const GOAL_MS = 100;
/** The instance the server made on first start (read from its batches). */
let inst = '';
const CLI = path.resolve('packages/server/dist/cli.js');
const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

const log = (m: string) => process.stderr.write(`bench/dashboard: ${m}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function databaseUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function recreateDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DB_NAME}`);
  await admin.end();
}

interface Server {
  child: ChildProcess;
  env: Record<string, string>;
  port: number;
  ca: Buffer;
}

async function startServer(dir: string): Promise<Server> {
  const [port, devicePort, pkiPort, mqttPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const env = {
    PATH: process.env.PATH ?? '',
    TRUSTLINK_DATABASE_URL: databaseUrl(DB_NAME),
    TRUSTLINK_DATA_DIR: path.join(dir, 'data'),
    TRUSTLINK_MASTER_KEY_FILE: path.join(dir, 'secrets', 'master.key'),
    TRUSTLINK_MANAGEMENT_PORT: String(port),
    TRUSTLINK_DEVICE_PORT: String(devicePort),
    TRUSTLINK_PKI_HTTP_PORT: String(pkiPort),
    TRUSTLINK_MQTT_PORT: String(mqttPort),
    TRUSTLINK_BIND_ADDRESS: '127.0.0.1',
    TRUSTLINK_LOG_LEVEL: 'warn',
  };
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const caFile = path.join(dir, 'data', 'oem-root-ca.pem');
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 250));
    if (child.exitCode !== null) throw new Error(`trustlink serve exited with ${child.exitCode}`);
    try {
      const ca = readFileSync(caFile);
      const r = await get({ port, ca }, '/readyz', '');
      if (r.status === 200) return { child, env, port, ca };
    } catch {
      // not up yet
    }
  }
  throw new Error('trustlink serve did not become ready within 150 s');
}

function cli(env: Record<string, string>, args: string[], stdin?: string): string {
  return execFileSync(process.execPath, [CLI, ...args], {
    env,
    input: stdin,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'inherit'],
  }).trim();
}

function get(
  s: { port: number; ca: Buffer },
  urlPath: string,
  token: string,
  method = 'GET',
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port: s.port,
        path: urlPath,
        method,
        ca: s.ca,
        agent: keepAlive,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function seed(db: pg.Client, batchIds: string[], issuerId: string): Promise<void> {
  // A fleet as it looks after a while: most devices enrolled, some renewed, a few revoked or
  // expired, some registered and never seen. States and times are spread by the row number so
  // every filter has work to do.
  const per = Math.ceil(DEVICES / batchIds.length);
  for (let b = 0; b < batchIds.length; b++) {
    const from = b * per;
    const to = Math.min(DEVICES, from + per) - 1;
    if (from > to) break;
    await db.query(
      `INSERT INTO devices (instance_id, id, batch_id, state, registered_at, enrolled_at, renewed_at,
         revoked_at, expired_at, last_seen_at, current_cert_id, current_serial, cert_not_after,
         renew_at, enrol_method, key_type)
       SELECT '${inst}', encode(sha256(int8send(g)), 'hex'), $1,
         CASE WHEN g % 20 = 0 THEN 'registered' WHEN g % 20 = 1 THEN 'revoked'
              WHEN g % 20 = 2 THEN 'expired' WHEN g % 10 = 3 THEN 'renewed' ELSE 'enrolled' END,
         now() - (g % 1000) * interval '1 hour',
         CASE WHEN g % 20 = 0 THEN NULL ELSE now() - (g % 900) * interval '1 hour' END,
         CASE WHEN g % 10 = 3 THEN now() - (g % 100) * interval '1 hour' END,
         CASE WHEN g % 20 = 1 THEN now() - (g % 50) * interval '1 hour' END,
         CASE WHEN g % 20 = 2 THEN now() - (g % 50) * interval '1 hour' END,
         CASE WHEN g % 20 = 0 THEN NULL ELSE now() - (g % 600) * interval '1 minute' END,
         CASE WHEN g % 20 = 0 THEN NULL ELSE 'c' || g END,
         CASE WHEN g % 20 = 0 THEN NULL ELSE lpad(to_hex(g), 32, '0') END,
         CASE WHEN g % 20 = 0 THEN NULL ELSE now() + (g % 365) * interval '1 day' END,
         CASE WHEN g % 20 = 0 THEN NULL ELSE now() + (g % 240) * interval '1 day' END,
         CASE WHEN g % 20 = 0 THEN NULL ELSE 'pre-registered' END,
         'P-256'
       FROM generate_series($2::bigint, $3::bigint) g`,
      [batchIds[b], from, to],
    );
    await db.query(
      `INSERT INTO device_certificates (instance_id, id, issuer_id, serial, device_id, not_before,
         not_after, status, revocation_reason, revoked_at, der, created_at)
       SELECT '${inst}', 'c' || g, $1, lpad(to_hex(g), 32, '0'), encode(sha256(int8send(g)), 'hex'),
         now() - interval '1 day', now() + (g % 365) * interval '1 day',
         CASE WHEN g % 20 = 1 THEN 'revoked' ELSE 'valid' END,
         CASE WHEN g % 20 = 1 THEN 'keyCompromise' END,
         CASE WHEN g % 20 = 1 THEN now() END,
         '\\x3000'::bytea, now() - (g % 900) * interval '1 hour'
       FROM generate_series($2::bigint, $3::bigint) g WHERE g % 20 <> 0`,
      [issuerId, from, to],
    );
    if (b % 10 === 9 || b === batchIds.length - 1)
      log(`seeded ${Math.min(DEVICES, to + 1)} devices`);
  }
  // The log grows with the fleet: one entry per device event, so a million here as well.
  await db.query(
    `INSERT INTO audit_log (instance_id, seq, at, actor_type, actor_id, actor_name, action,
       target_type, target_id, target_name, result, source_address, details, mac)
     SELECT '${inst}', g + 1000000000, now() - (g % 100000) * interval '1 second', 'device',
       encode(sha256(int8send(g)), 'hex'), 'device', 'device.enrol', 'device',
       encode(sha256(int8send(g)), 'hex'), NULL, 'ok', '127.0.0.1', '{}', 'x'
     FROM generate_series(0::bigint, $1::bigint - 1) g`,
    [DEVICES],
  );
  log('seeded the audit log');
  // A fleet this size has been vacuumed by autovacuum long since; measure that steady state.
  await db.query('VACUUM ANALYZE');
}

interface Timing {
  p50: number;
  p95: number;
  max: number;
}

function summarise(ms: number[]): Timing {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { p50: at(0.5), p95: at(0.95), max: s[s.length - 1]! };
}

async function time(fn: () => Promise<void>): Promise<Timing> {
  for (let i = 0; i < 3; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return summarise(ms);
}

/** Where a kept run lives (BENCH_KEEP=1), so the next run can skip seeding. */
const KEEP_DIR = path.join(tmpdir(), 'trustlink-bench-dashboard');

async function main(): Promise<void> {
  const keep = process.env.BENCH_KEEP === '1';
  const reuse = keep && existsSync(path.join(KEEP_DIR, 'seeded'));
  if (keep) mkdirSync(KEEP_DIR, { recursive: true });
  const dir = keep ? KEEP_DIR : mkdtempSync(path.join(tmpdir(), 'trustlink-bench-dashboard-'));
  let server: Server | undefined;
  const db = new pg.Client({ connectionString: databaseUrl(DB_NAME) });
  try {
    if (!reuse) {
      log(`creating database ${DB_NAME}`);
      await recreateDatabase();
    }
    server = await startServer(dir);
    const localEnv = { ...server.env, TRUSTLINK_LOG_LEVEL: 'silent' };
    if (!reuse) {
      cli(
        localEnv,
        [
          'user',
          'add',
          '--username',
          'bench',
          '--email',
          'bench@example.com',
          '--first-name',
          'Bench',
          '--last-name',
          'Mark',
          '--role',
          'administrator',
          '--no-two-factor',
          '--password-stdin',
        ],
        'quiet-harbour-lantern-42\n',
      );
    }
    const token = cli(localEnv, ['token', 'create', '--name', 'bench', '--user', 'bench']);
    const api = async (p: string, method = 'GET', body?: unknown) => {
      const r = await get(server!, p, token, method, body);
      if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.body}`);
      return JSON.parse(r.body) as Record<string, unknown>;
    };
    await db.connect();
    let batchIds: string[] = [];
    if (reuse) {
      log(`reusing the fleet seeded by an earlier run (${KEEP_DIR})`);
      batchIds = (await db.query<{ id: string }>('SELECT id FROM batches ORDER BY name')).rows.map(
        (r) => r.id,
      );
      inst = (await db.query<{ instance_id: string }>('SELECT instance_id FROM batches LIMIT 1'))
        .rows[0]!.instance_id;
    } else {
      const policy = await api('/api/v1/policies', 'POST', {
        name: 'bench',
        connectionType: 'iot-hub',
        deviceCertificate: { lifetime: { value: 1, unit: 'years' }, autoRenew: true },
        issuingCertificate: { lifetime: { value: 5, unit: 'years' } },
      });
      for (let b = 0; b < BATCHES; b++) {
        const batch = await api('/api/v1/batches', 'POST', {
          name: `batch-${b}`,
          policyId: policy.id,
        });
        batchIds.push(String(batch.id));
      }
      inst = (await db.query<{ instance_id: string }>('SELECT instance_id FROM batches LIMIT 1'))
        .rows[0]!.instance_id;
      const issuer = await db.query<{ id: string }>(
        `SELECT id FROM ca_certificates WHERE kind = 'issuing' ORDER BY created_at LIMIT 1`,
      );
      const t0 = performance.now();
      await seed(db, batchIds, issuer.rows[0]!.id);
      log(`seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      if (keep) writeFileSync(path.join(KEEP_DIR, 'seeded'), String(DEVICES));
    }

    const mid = batchIds[Math.floor(batchIds.length / 2)]!;
    const someId =
      (
        await db.query<{ id: string }>(
          `SELECT id FROM devices OFFSET ${Math.floor(DEVICES / 2)} LIMIT 1`,
        )
      ).rows[0]?.id ?? '';
    const calls: [string, string, string][] = [
      [
        'dashboard: device counts (summary)',
        '/api/v1/devices/summary',
        `SELECT batch_id, state, sum(n) FROM device_state_counts WHERE instance_id = '${inst}' GROUP BY batch_id, state`,
      ],
      [
        'dashboard: batches with counts',
        '/api/v1/batches',
        `SELECT batch_id, state, sum(n) FROM device_state_counts WHERE instance_id = '${inst}' GROUP BY batch_id, state`,
      ],
      [
        'dashboard: issuing certificates',
        '/api/v1/pki/certificates',
        `SELECT issuer_id, sum(n) FROM issuer_certificate_counts WHERE instance_id = '${inst}' GROUP BY issuer_id`,
      ],
      [
        'dashboard: last activity',
        '/api/v1/audit/recent?limit=10',
        `SELECT * FROM audit_log WHERE instance_id = '${inst}' ORDER BY seq DESC LIMIT 10`,
      ],
      [
        'list: devices, first page',
        '/api/v1/devices?limit=50',
        `SELECT * FROM devices WHERE instance_id = '${inst}' ORDER BY registered_at DESC, id DESC LIMIT 50`,
      ],
      [
        'list: devices, page 1000',
        '/api/v1/devices?limit=50&offset=50000',
        `SELECT * FROM devices WHERE instance_id = '${inst}' ORDER BY registered_at DESC, id DESC OFFSET 50000 LIMIT 50`,
      ],
      [
        'list: revoked devices',
        '/api/v1/devices?state=revoked&limit=50',
        `SELECT * FROM devices WHERE instance_id = '${inst}' AND state = 'revoked' ORDER BY registered_at DESC, id DESC LIMIT 50`,
      ],
      [
        'list: device ID prefix search',
        `/api/v1/devices?q=${someId.slice(0, 6)}&limit=50`,
        `SELECT * FROM devices WHERE instance_id = '${inst}' AND id >= '${someId.slice(0, 6)}' AND id < '${someId.slice(0, 6)}g' LIMIT 50`,
      ],
      [
        "list: one batch's devices",
        `/api/v1/batches/${mid}/devices?limit=50`,
        `SELECT * FROM devices WHERE instance_id = '${inst}' AND batch_id = '${mid}' ORDER BY registered_at, id LIMIT 50`,
      ],
      [
        'detail: one device',
        `/api/v1/devices/${someId}`,
        `SELECT * FROM devices WHERE instance_id = '${inst}' AND id = '${someId}'`,
      ],
      [
        'list: device certificates',
        '/api/v1/pki/device-certificates?limit=50',
        `SELECT * FROM device_certificates WHERE instance_id = '${inst}' ORDER BY created_at DESC, id DESC LIMIT 50`,
      ],
      [
        'list: audit log, first page',
        '/api/v1/audit?limit=50',
        `SELECT * FROM audit_log WHERE instance_id = '${inst}' ORDER BY seq DESC LIMIT 50`,
      ],
      [
        'list: audit log filtered by action',
        '/api/v1/audit?action=device.enrol&limit=50',
        `SELECT * FROM audit_log WHERE instance_id = '${inst}' AND action = 'device.enrol' ORDER BY seq DESC LIMIT 50`,
      ],
      [
        'list: policies',
        '/api/v1/policies',
        `SELECT * FROM policies WHERE instance_id = '${inst}'`,
      ],
      ['list: firmware', '/api/v1/firmware', `SELECT 1`],
      ['list: hubs', '/api/v1/hubs', `SELECT 1`],
    ];
    const rows: { name: string; path: string; api: Timing; sql: Timing }[] = [];
    for (const [name, p, sql] of calls) {
      const apiT = await time(async () => {
        await api(p);
      });
      const sqlT = await time(async () => {
        await db.query(sql);
      });
      rows.push({ name, path: p, api: apiT, sql: sqlT });
      log(`${name}: p50 ${apiT.p50.toFixed(1)} ms`);
    }
    await report(rows);
  } finally {
    await db.end().catch(() => undefined);
    server?.child.kill('SIGTERM');
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

async function report(
  rows: { name: string; path: string; api: Timing; sql: Timing }[],
): Promise<void> {
  const f = (n: number) => n.toFixed(1).padStart(7);
  const worst = Math.max(...rows.map((r) => r.api.p95));
  const out = [
    '',
    `bench/dashboard: ${DEVICES.toLocaleString('en-US')} devices in ${BATCHES} batches, ${DEVICES.toLocaleString('en-US')} audit entries, PostgreSQL; ${REPEAT} calls each after 3 warm-ups`,
    `node ${process.version}, ${cpus()[0]?.model ?? '?'}, ${cpus().length} CPUs`,
    '',
    `${'call'.padEnd(38)} ${'API p50'.padStart(7)} ${'API p95'.padStart(7)} ${'API max'.padStart(7)} ${'SQL p50'.padStart(7)}   (ms)`,
    ...rows.map(
      (r) => `${r.name.padEnd(38)} ${f(r.api.p50)} ${f(r.api.p95)} ${f(r.api.max)} ${f(r.sql.p50)}`,
    ),
    '',
    `slowest p95: ${worst.toFixed(1)} ms (goal: under ${GOAL_MS} ms) — ${worst < GOAL_MS ? 'met' : 'NOT met'}`,
    '',
  ];
  process.stdout.write(out.join('\n'));
  await writeSection('dashboard', {
    title: `Dashboard and list calls with ${DEVICES.toLocaleString('en-US')} devices (\`npm run bench:dashboard\`)`,
    header: ['call', 'API p50 ms', 'API p95 ms', 'API max ms', 'peer: its SQL alone, p50 ms'],
    rows: rows.map((r) => [
      `${r.name} (\`${r.path.replace(/[0-9a-f]{20,}/g, '…')}\`)`,
      r.api.p50.toFixed(1),
      r.api.p95.toFixed(1),
      r.api.max.toFixed(1),
      r.sql.p50.toFixed(1),
    ]),
    notes: [
      `${DEVICES.toLocaleString('en-US')} devices in ${BATCHES} batches with certificates, and as many audit entries, in PostgreSQL; a real \`trustlink serve\` answering over HTTPS with an API token, one call at a time, ${REPEAT} times each after 3 warm-ups.`,
      `Slowest p95: ${worst.toFixed(1)} ms; goal under ${GOAL_MS} ms: ${worst < GOAL_MS ? 'met' : 'not met'}.`,
    ],
  });
}

await main();
