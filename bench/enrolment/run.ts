/**
 * bench/enrolment: N simulated devices, each with its own P-256 key and a fresh TLS session
 * (no resumption), enrol concurrently against a spawned `trustlink serve` on SQLite and on
 * PostgreSQL; then check-ins (`status` over kept-alive connections, with mutual TLS and with
 * bearer handles). Beside them, in the same run: a bare Node mutual-TLS server doing nothing
 * but the handshake, and micromdm's SCEP server enrolling the same number of devices with its
 * own client.
 *
 * Every CPU figure is the measured server process's own (user + system from /proc/<pid>/stat),
 * taken around the phase, so the load generator's work (this process, the SCEP clients) is
 * not in it. Latencies are wall-clock at the client, under the stated concurrency.
 *
 *   npm run bench:enrolment
 *   BENCH_N=1000 BENCH_CONCURRENCY=32 BENCH_CHECKINS=4000 BENCH_DIALECTS=sqlite,postgres
 *   BENCH_REPLICAS=0     leaves out the two replicas
 *   BENCH_BASELINE=<dir> measures the server of another checkout too (before/after)
 *   BENCH_PROFILE=<dir>  writes a V8 CPU profile of each trustlink server (node --cpu-prof)
 */
import { execFileSync, execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { writeSection } from '../bench-report.js';
import { createProofHeader, nodeKeySigner, type EnrolResponse } from '@trustlink/protocol';
import { toPem } from '../../packages/server/src/pki/certificate-builder.js';
import { createTestUsers } from '../../packages/server/src/test-helpers/test-auth.js';
import { createTestDatabase } from '../../packages/server/src/test-helpers/test-databases.js';
import {
  createPolicyAndBatch,
  enrolBody,
  register,
  testDevice,
  type TestDevice,
} from '../../packages/server/src/test-helpers/test-devices.js';
import { startTestServer } from '../../packages/server/src/test-helpers/test-server.js';
import type { DialectName } from '../../packages/server/src/db/database.js';
import {
  BARE_HTTPS_SERVER,
  BARE_TLS_SERVER,
  cpuMs,
  freePort,
  percentile,
  pool,
  spawnServer,
  tcpUp,
  tlsUp,
  type Spawned,
} from './processes.js';

const N = Number(process.env.BENCH_N ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const CHECKINS = Number(process.env.BENCH_CHECKINS ?? 4000);
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',') as DialectName[];
const PROFILE = process.env.BENCH_PROFILE;
/** Devices enrolled first and not counted: JIT, caches, connection pools. */
const WARM = Math.min(50, Math.floor(N / 5));
const CHECKIN_DEVICES = Math.min(50, N - WARM);
const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'packages/server/dist/cli.js');
/** Redis of the two-replica row (the tests' Redis). */
const REDIS_URL = process.env.TRUSTLINK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * BENCH_BASELINE=<another checkout of the repository, built, with node_modules>: its server
 * measured too, just before this one on each database, so a change is seen before and after
 * under the same load.
 */
const BASELINE = process.env.BENCH_BASELINE;
/** How long the replicas' idle CPU is read before their phase. */
const IDLE_MS = 3000;
/** BENCH_REPLICAS=0 leaves out the two-replica row (it needs PostgreSQL and Redis). */
const REPLICAS = process.env.BENCH_REPLICAS !== '0' && DIALECTS.includes('postgres');

interface Figure {
  what: string;
  count: number;
  wallS: number;
  cpuMs: number;
  latencies?: number[];
  note?: string;
}

const log = (m: string) => process.stderr.write(`${m}\n`);

/** Measures one phase of a server process: its CPU and the wall time. */
async function phase(
  what: string,
  pid: number,
  count: number,
  run: () => Promise<number[] | void>,
): Promise<Figure> {
  const c0 = cpuMs(pid);
  const t0 = performance.now();
  const latencies = (await run()) ?? undefined;
  const wallS = (performance.now() - t0) / 1000;
  return { what, count, wallS, cpuMs: cpuMs(pid) - c0, ...(latencies ? { latencies } : {}) };
}

/** One HTTPS request on a new connection (agent: false: a fresh TLS session, no resumption). */
function request(
  opts: https.RequestOptions,
  body?: string,
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', servername: 'localhost', ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString(),
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A database with the instance, a policy, a batch and every device registered in it. */
async function prepare(dialect: DialectName, devices: TestDevice[]) {
  log(`[${dialect}] preparing the instance, a policy, a batch and ${devices.length} device IDs`);
  const database = await createTestDatabase(dialect);
  const home = mkdtempSync(path.join(tmpdir(), 'trustlink-bench-'));
  const setup = await startTestServer(dialect, { database, home });
  const { admin } = await createTestUsers(setup);
  const { batchId } = await createPolicyAndBatch(setup, admin, 'bench');
  await register(setup, admin, batchId, ...devices.map((d) => d.deviceId));
  const ca = setup.rootPem;
  await setup.close({ keepData: true });
  return {
    database,
    home,
    ca,
    async remove() {
      await database.drop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A `trustlink serve` process on the prepared database; `name` tells its profile apart. */
async function serve(
  prepared: Awaited<ReturnType<typeof prepare>>,
  name: string,
  extra: Record<string, string> = {},
  cli = CLI,
): Promise<Spawned & { port: number }> {
  const port = await freePort();
  const env = {
    TRUSTLINK_DATA_DIR: path.join(prepared.home, 'data'),
    TRUSTLINK_MASTER_KEY_FILE: path.join(prepared.home, 'secrets', 'master.key'),
    TRUSTLINK_DATABASE_URL: prepared.database.url,
    TRUSTLINK_BIND_ADDRESS: '127.0.0.1',
    TRUSTLINK_DEVICE_PORT: String(port),
    TRUSTLINK_MANAGEMENT_PORT: String(await freePort()),
    TRUSTLINK_PKI_HTTP_PORT: String(await freePort()),
    TRUSTLINK_MQTT_PORT: String(await freePort()),
    TRUSTLINK_LOG_LEVEL: 'warn',
    // Every simulated device is 127.0.0.1 here, and check-ins run far faster than a device's.
    TRUSTLINK_DEVICE_ADDRESS_RATE_PER_MINUTE: '0',
    TRUSTLINK_DEVICE_RATE_PER_MINUTE: '0',
    ...extra,
  };
  const profileArgs = PROFILE
    ? [
        '--cpu-prof',
        '--cpu-prof-dir',
        path.resolve(PROFILE),
        '--cpu-prof-name',
        `${name}.cpuprofile`,
      ]
    : [];
  const server = await spawnServer(process.execPath, [...profileArgs, cli, 'serve'], env, () =>
    tlsUp(port),
  );
  return { ...server, port };
}

/** One enrolment over a fresh TLS session; the certificate it got, as PEM. */
async function enrolOne(port: number, ca: string, d: TestDevice): Promise<string> {
  const r = await request(
    {
      port,
      ca,
      cert: d.bootstrapPem,
      key: d.keyPem,
      agent: false,
      method: 'POST',
      path: '/device/v1/enrol',
      headers: { 'content-type': 'application/json' },
    },
    enrolBody(d),
  );
  if (r.status !== 200) throw new Error(`enrol ${d.deviceId}: ${r.status} ${r.text}`);
  return toPem(
    Buffer.from(JSON.parse(r.text).certificate as EnrolResponse['certificate'], 'base64url'),
  );
}

async function benchTrustlink(
  dialect: DialectName,
  devices: TestDevice[],
  /** The server of another checkout (BENCH_BASELINE), measured the same way. */
  baseline?: string,
) {
  const label = baseline ? 'trustlink before' : 'trustlink';
  const prepared = await prepare(dialect, devices);
  const { ca } = prepared;
  const server = await serve(
    prepared,
    baseline ? `${dialect}-baseline` : dialect,
    {},
    baseline ? path.join(path.resolve(baseline), 'packages/server/dist/cli.js') : CLI,
  );
  const { port } = server;
  try {
    const certs = new Array<string>(devices.length);
    const enrol = async (i: number) => {
      certs[i] = await enrolOne(port, ca, devices[i]!);
    };
    await pool(WARM, CONCURRENCY, enrol);
    log(`[${dialect}] enrolling ${devices.length - WARM} devices, ${CONCURRENCY} at a time`);
    const enrolment = await phase(
      `${label} enrol (${dialect})`,
      server.pid,
      devices.length - WARM,
      () => pool(devices.length - WARM, CONCURRENCY, (i) => enrol(WARM + i)),
    );

    // Check-ins: devices on kept-alive connections, each sending If-None-Match as devices do.
    const group = devices.slice(WARM, WARM + CHECKIN_DEVICES).map((d, j) => ({
      d,
      cert: certs[WARM + j]!,
    }));
    const rounds = Math.max(1, Math.ceil(CHECKINS / group.length));
    const checkIns = async (
      what: string,
      agents: https.Agent[],
      headers: (j: number) => Record<string, string>,
    ) => {
      const etags = await Promise.all(
        group.map(async (_, j) => {
          const r = await request({
            port,
            ca,
            agent: agents[j],
            path: '/device/v1/status',
            headers: headers(j),
          });
          if (r.status !== 200) throw new Error(`status: ${r.status} ${r.text}`);
          return String(r.headers.etag);
        }),
      );
      const one = (j: number) => async () => {
        const r = await request({
          port,
          ca,
          agent: agents[j],
          path: '/device/v1/status',
          headers: { ...headers(j), 'if-none-match': etags[j]! },
        });
        if (r.status !== 304) throw new Error(`status: ${r.status} ${r.text}`);
      };
      // A warm-up round, then the measured ones.
      await Promise.all(group.map((_, j) => one(j)()));
      return phase(what, server.pid, rounds * group.length, async () => {
        const lat: number[] = [];
        await Promise.all(
          group.map(async (_, j) => {
            for (let k = 0; k < rounds; k++) {
              const t0 = performance.now();
              await one(j)();
              lat.push(performance.now() - t0);
            }
          }),
        );
        return lat;
      });
    };
    log(`[${dialect}] check-ins over mutual TLS: ${group.length} devices x ${rounds}`);
    const tlsAgents = group.map(
      (g) => new https.Agent({ keepAlive: true, maxSockets: 1, cert: g.cert, key: g.d.keyPem }),
    );
    const mtls = await checkIns(`${label} status, mutual TLS (${dialect})`, tlsAgents, () => ({}));

    log(`[${dialect}] check-ins with bearer handles`);
    const tokens = await Promise.all(
      group.map(async (g) => {
        const c = await request(
          {
            port,
            ca,
            method: 'POST',
            path: '/device/v1/challenge',
            headers: { 'content-type': 'application/json' },
          },
          '{}',
        );
        const nonce = JSON.parse(c.text).nonce as string;
        const body = '{}';
        const proof = await createProofHeader({
          credential: { type: 'spki', der: g.d.spkiDer },
          purpose: 'session',
          nonce,
          request: {
            host: '127.0.0.1',
            method: 'POST',
            path: '/device/v1/session',
            body: Buffer.from(body),
          },
          signer: nodeKeySigner(g.d.privateKey),
        });
        const s = await request(
          {
            port,
            ca,
            method: 'POST',
            path: '/device/v1/session',
            headers: { 'content-type': 'application/json', 'trustlink-proof': proof },
          },
          body,
        );
        if (s.status !== 200) throw new Error(`session: ${s.status} ${s.text}`);
        return JSON.parse(s.text).token as string;
      }),
    );
    const plainAgents = group.map(() => new https.Agent({ keepAlive: true, maxSockets: 1 }));
    const bearer = await checkIns(`${label} status, bearer (${dialect})`, plainAgents, (j) => ({
      authorization: `Bearer ${tokens[j]}`,
    }));
    for (const a of [...tlsAgents, ...plainAgents]) a.destroy();
    return [enrolment, mtls, bearer];
  } finally {
    await server.stop();
    await prepared.remove();
  }
}

/**
 * Two replicas (issue #11): two `trustlink serve` processes on one PostgreSQL and one Redis,
 * the same master key, each its own data directory and ports, as docs/replicas.md sets them
 * up. The enrolling devices alternate between them (as a load balancer would spread new
 * connections); the CPU is both servers' together.
 */
async function benchReplicas(devices: TestDevice[]): Promise<Figure> {
  const prepared = await prepare('postgres', devices);
  const { ca } = prepared;
  const shared = { TRUSTLINK_REDIS_URL: REDIS_URL, TRUSTLINK_FIRMWARE_STORE: 'database' };
  const a = await serve(prepared, 'replica-a', shared);
  let b: Awaited<ReturnType<typeof serve>> | undefined;
  try {
    b = await serve(prepared, 'replica-b', {
      ...shared,
      TRUSTLINK_DATA_DIR: path.join(prepared.home, 'data-b'),
    });
    const ports = [a.port, b.port];
    const enrol = (i: number) => enrolOne(ports[i % 2]!, ca, devices[i]!).then(() => undefined);
    await pool(WARM, CONCURRENCY, enrol);
    log(
      `[replicas] enrolling ${devices.length - WARM} devices on two replicas, ${CONCURRENCY} at a time`,
    );
    const pids = [a.pid, b.pid];
    // What each process costs doing nothing (timers, the bus, the reconciles), for the note.
    const idle0 = pids.map(cpuMs);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idle = pids.map((p, i) => ((cpuMs(p) - idle0[i]!) * 1000) / IDLE_MS);
    const each0 = pids.map(cpuMs);
    const f = await phase(
      'trustlink enrol (postgres, 2 replicas)',
      a.pid,
      devices.length - WARM,
      () => pool(devices.length - WARM, CONCURRENCY, (i) => enrol(WARM + i)),
    );
    const each = pids.map((p, i) => cpuMs(p) - each0[i]!);
    const perK = (ms: number) => Math.round((ms / f.count) * 1000);
    return {
      ...f,
      cpuMs: each[0]! + each[1]!,
      note: `CPU of both servers together; replica A ${perK(each[0]!)} ms and replica B ${perK(each[1]!)} ms per 1,000 enrolments of the whole run (each served half); idle, before the phase, they used ${idle.map((v) => v.toFixed(0)).join(' and ')} ms of CPU per second`,
    };
  } finally {
    await b?.stop();
    await a.stop();
    await prepared.remove();
  }
}

/**
 * The handshake alone: same client keys and certificates, and a server identity like the
 * device port's (a P-256 key whose certificate a P-256 root signed, sent as the two-certificate
 * chain Trustlink sends: leaf and root), so both send and sign the same.
 */
async function benchBareTls(devices: TestDevice[], dir: string): Promise<Figure[]> {
  const rootKey = path.join(dir, 'tls-root.key');
  const rootCert = path.join(dir, 'tls-root.pem');
  const key = path.join(dir, 'tls.key');
  const csr = path.join(dir, 'tls.csr');
  const leaf = path.join(dir, 'tls-leaf.pem');
  const cert = path.join(dir, 'tls.pem');
  for (const k of [rootKey, key])
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', k]);
  execFileSync('openssl', [
    'req',
    '-new',
    '-x509',
    '-key',
    rootKey,
    '-out',
    rootCert,
    '-days',
    '1',
    '-subj',
    '/CN=bench root',
  ]);
  execFileSync('openssl', ['req', '-new', '-key', key, '-out', csr, '-subj', '/CN=localhost']);
  execFileSync('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    rootCert,
    '-CAkey',
    rootKey,
    '-CAcreateserial',
    '-out',
    leaf,
    '-days',
    '1',
  ]);
  writeFileSync(cert, readFileSync(leaf, 'utf8') + readFileSync(rootCert, 'utf8'));
  const port = await freePort();
  const server = await spawnServer(
    process.execPath,
    ['-e', BARE_TLS_SERVER],
    { KEY: key, CERT: cert, PORT: String(port) },
    () => tlsUp(port),
  );
  const handshake = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const d = devices[i]!;
      const s = tls.connect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        rejectUnauthorized: false,
        cert: d.bootstrapPem,
        key: d.keyPem,
      });
      s.once('data', () => {
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    });
  try {
    await pool(WARM, CONCURRENCY, handshake);
    const hs = await phase(
      'bare Node mutual-TLS handshake',
      server.pid,
      devices.length - WARM,
      () => pool(devices.length - WARM, CONCURRENCY, (i) => handshake(WARM + i)),
    );
    return [hs, await benchBareHttps(devices, key, cert)];
  } finally {
    await server.stop();
  }
}

/** Kept-alive mutual-TLS requests answered 304 by a bare Node HTTPS server: the check-in floor. */
async function benchBareHttps(devices: TestDevice[], key: string, cert: string): Promise<Figure> {
  const port = await freePort();
  const server = await spawnServer(
    process.execPath,
    ['-e', BARE_HTTPS_SERVER],
    { KEY: key, CERT: cert, PORT: String(port) },
    () => tlsUp(port),
  );
  const group = devices.slice(WARM, WARM + CHECKIN_DEVICES);
  const agents = group.map(
    (d) => new https.Agent({ keepAlive: true, maxSockets: 1, cert: d.bootstrapPem, key: d.keyPem }),
  );
  const rounds = Math.max(1, Math.ceil(CHECKINS / group.length));
  const one = async (j: number) => {
    const r = await request({
      port,
      agent: agents[j],
      rejectUnauthorized: false,
      path: '/status',
      headers: { 'if-none-match': '"x"' },
    });
    if (r.status !== 304) throw new Error(`bare https: ${r.status}`);
  };
  try {
    await Promise.all(group.map((_, j) => one(j)));
    return await phase(
      'bare Node HTTPS 304, mutual TLS',
      server.pid,
      rounds * group.length,
      async () => {
        const lat: number[] = [];
        await Promise.all(
          group.map(async (_, j) => {
            for (let k = 0; k < rounds; k++) {
              const t0 = performance.now();
              await one(j);
              lat.push(performance.now() - t0);
            }
          }),
        );
        return lat;
      },
    );
  } finally {
    for (const a of agents) a.destroy();
    await server.stop();
  }
}

/** micromdm's SCEP server, each device enrolled by its own `scepclient` (RSA 2048, its only kind). */
async function benchScep(count: number, dir: string): Promise<Figure> {
  const depot = path.join(dir, 'depot');
  execFileSync('scepserver', ['ca', '-init', '-depot', depot, '-keySize', '2048'], {
    stdio: 'ignore',
  });
  const port = await freePort();
  const server: Spawned = await spawnServer(
    'scepserver',
    ['-depot', depot, '-port', String(port), '-allowrenew', '0'],
    {},
    () => tcpUp(port),
  );
  const failures: string[] = [];
  const client = (i: number) =>
    new Promise<void>((resolve) => {
      const cwd = path.join(dir, `c${i}`);
      mkdirSync(cwd);
      // The client makes its key first (client CPU, not the server's).
      execFile(
        'scepclient',
        [
          '-server-url',
          `http://127.0.0.1:${port}/scep`,
          '-private-key',
          'key.pem',
          '-cn',
          `device-${i}`,
        ],
        { cwd },
        (err, out, stderr) => {
          // Counted, not fatal: the peer's failures under load are part of what it shows.
          if (err || !/SUCCESS/.test(stderr))
            failures.push(
              `${err?.message ?? ''} ${out} ${stderr}`.replace(/\s+/g, ' ').slice(-300),
            );
          resolve();
        },
      );
    });
  try {
    const warm = Math.min(WARM, 10);
    await pool(warm, CONCURRENCY, client);
    failures.length = 0;
    const f = await phase('micromdm SCEP server (scepclient)', server.pid, count, () =>
      pool(count, CONCURRENCY, (i) => client(warm + i)),
    );
    // Serials of the certificates the clients received: the peer's uniqueness under load.
    const serials = new Map<string, number>();
    for (let i = 0; i < warm + count; i++) {
      try {
        const x = new X509Certificate(readFileSync(path.join(dir, `c${i}`, 'client.pem')));
        serials.set(x.serialNumber, (serials.get(x.serialNumber) ?? 0) + 1);
      } catch {
        // no certificate: a failure counted above
      }
    }
    const duplicates = [...serials.values()].filter((n) => n > 1).reduce((a, n) => a + n - 1, 0);
    return {
      ...f,
      note: `${failures.length} failed, ${duplicates} duplicate serials${failures[0] ? `; first failure: ${failures[0]}` : ''}`,
    };
  } finally {
    await server.stop();
  }
}

async function main() {
  // The servers run from dist/: build it first, so `npm run bench` never measures stale code.
  execFileSync('npx', ['tsc', '-b', 'packages/protocol', 'packages/server'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'trustlink-bench-enrol-'));
  try {
    log(`preparing ${N} device keys and bootstrap certificates`);
    const devices = await Promise.all(Array.from({ length: N }, () => testDevice('P-256')));
    const figures: Figure[] = [];
    const [handshake, bareCheckIn] = await benchBareTls(devices, dir);
    figures.push(handshake!);
    const checkins: Figure[] = [bareCheckIn!];
    for (const dialect of DIALECTS) {
      if (BASELINE) {
        const [be, bm, bb] = await benchTrustlink(dialect, devices, BASELINE);
        figures.push(be!);
        checkins.push(bm!, bb!);
      }
      const [e, m, b] = await benchTrustlink(dialect, devices);
      figures.push(e!);
      checkins.push(m!, b!);
    }
    if (REPLICAS) figures.push(await benchReplicas(devices));
    log(`SCEP: ${N - WARM} clients`);
    figures.push(await benchScep(N - WARM, dir));
    print(figures, checkins);
    await report(figures, checkins);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function print(figures: Figure[], checkins: Figure[]) {
  const fmt = (n: number, d = 0) =>
    n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const bare = figures[0]!;
  const perK = (f: Figure) => (f.cpuMs / f.count) * 1000;
  const lines = [
    '',
    `bench/enrolment: ${N - WARM} devices (after ${WARM} warm-up), ${CONCURRENCY} at a time, P-256 keys, a fresh TLS session each`,
    `node ${process.version}, OpenSSL ${process.versions.openssl}, ${cpus()[0]?.model ?? '?'}, ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
    'server CPU is the measured process only (/proc/<pid>/stat); latency is at the client',
    '',
    `${'what'.padEnd(40)} ${'devices/s'.padStart(9)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'CPU ms/1000'.padStart(12)} ${'x bare'.padStart(7)}`,
  ];
  for (const f of figures) {
    const lat = f.latencies ?? [];
    lines.push(
      `${f.what.padEnd(40)} ${fmt(f.count / f.wallS).padStart(9)} ${fmt(percentile(lat, 50), 1).padStart(7)} ${fmt(percentile(lat, 99), 1).padStart(7)} ${fmt(perK(f)).padStart(12)} ${fmt(perK(f) / perK(bare), 2).padStart(7)}`,
    );
  }
  const scep = figures[figures.length - 1]!;
  lines.push('');
  for (const f of figures) if (f.note) lines.push(`${f.what}: ${f.note}`);
  for (const f of figures.slice(1, -1))
    lines.push(
      `${f.what}: ${fmt(perK(scep) / perK(f), 2)}x less server CPU than SCEP (goal >= 3), ${fmt(perK(f) / perK(bare), 2)}x a bare handshake (goal <= 1.2)`,
    );
  lines.push(
    '',
    `${'check-ins (304, kept-alive)'.padEnd(40)} ${'per s'.padStart(9)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'CPU us each'.padStart(12)}`,
  );
  for (const f of checkins) {
    const lat = f.latencies ?? [];
    lines.push(
      `${f.what.padEnd(40)} ${fmt(f.count / f.wallS).padStart(9)} ${fmt(percentile(lat, 50), 1).padStart(7)} ${fmt(percentile(lat, 99), 1).padStart(7)} ${fmt((f.cpuMs / f.count) * 1000).padStart(12)}`,
    );
  }
  lines.push('(goal: at most 100 us of server CPU per check-in)', '');
  process.stdout.write(lines.join('\n') + '\n');
}

await main();

/** The figures into docs/benchmarks.md (bench-report.ts), between this bench's markers. */
async function report(figures: Figure[], checkins: Figure[]) {
  const n = (v: number, d = 0) =>
    v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const perK = (f: Figure) => (f.cpuMs / f.count) * 1000;
  const bare = figures[0]!;
  const scep = figures[figures.length - 1]!;
  const isBefore = (f: Figure) => f.what.startsWith('trustlink before');
  const ours = figures.slice(1, -1).filter((f) => !isBefore(f));
  /** This code's figure over the baseline's of the same row, when BENCH_BASELINE ran. */
  const versus = (all: Figure[], f: Figure, cost: (f: Figure) => number) => {
    const b = all.find((x) => x.what === f.what.replace(/^trustlink /, 'trustlink before '));
    return b ? ` (${n(cost(f) / cost(b), 2)}× the CPU of the code before, same run)` : '';
  };
  const bold = (f: Figure, text: string) =>
    f.what.startsWith('trustlink') && !f.what.startsWith('trustlink before') ? `**${text}**` : text;
  await writeSection('enrolment', {
    title: 'Enrolment and check-ins (`npm run bench:enrolment`)',
    header: [
      `enrolment, ${N - WARM} devices, ${CONCURRENCY} at a time`,
      'devices/s',
      'p50 ms',
      'p99 ms',
      'server CPU ms per 1,000',
      '× bare handshake',
      'SCEP CPU ÷ this',
    ],
    rows: figures.map((f) => [
      bold(f, f.what),
      n(f.count / f.wallS),
      n(percentile(f.latencies ?? [], 50)),
      n(percentile(f.latencies ?? [], 99)),
      bold(f, n(perK(f))),
      n(perK(f) / perK(bare), 2),
      n(perK(scep) / perK(f), 2),
    ]),
    notes: [
      // The first failure's text (the peer's log) is printed, not written into the docs.
      ...figures.filter((f) => f.note).map((f) => `${f.what}: ${f.note!.split(';')[0]}.`),
      ...ours.map(
        (f) =>
          `${f.what}: ${n(perK(f) / perK(bare), 2)}× a bare handshake (goal ≤ 1.2: ${perK(f) / perK(bare) <= 1.2 ? 'met' : '**not met**'}), ${n(perK(scep) / perK(f), 2)}× less CPU than the SCEP server (goal ≥ 3: ${perK(scep) / perK(f) >= 3 ? 'met' : '**not met**'})${versus(figures, f, perK)}.`,
      ),
    ],
  });
  const floor = checkins[0]!;
  const us = (f: Figure) => (f.cpuMs / f.count) * 1000;
  await writeSection('check-ins', {
    title: 'Check-ins (`npm run bench:enrolment`)',
    header: [
      `check-ins (304, kept-alive), ${n(floor.count)} each`,
      'per s',
      'p50 ms',
      'p99 ms',
      'server CPU µs each',
      '× bare HTTPS 304',
    ],
    rows: checkins.map((f) => [
      bold(f, f.what),
      n(f.count / f.wallS),
      n(percentile(f.latencies ?? [], 50), 1),
      n(percentile(f.latencies ?? [], 99), 1),
      bold(f, n(us(f))),
      n(us(f) / us(floor), 2),
    ]),
    notes: checkins
      .slice(1)
      .filter((f) => !isBefore(f))
      .map(
        (f) =>
          `${f.what}: ${n(us(f))} µs of server CPU per check-in (goal ≤ 100: ${us(f) <= 100 ? 'met' : '**not met**'}); the bare Node HTTPS 304 of the same run: ${n(us(floor))} µs${versus(checkins, f, us)}.`,
      ),
  });
}
