import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  TEST_DIALECTS,
  type TestDatabase,
} from '../src/test-helpers/test-databases.js';
import {
  envOf,
  execForm,
  last,
  readDockerfile,
  repoPathOfImagePath,
  volumesOf,
} from '../src/test-helpers/test-dockerfile.js';
import { freePort } from '../src/test-helpers/test-mosquitto.js';

/*
 * Runs the container image's entrypoint script, exactly as the Dockerfile names it, as a
 * plain process (no container engine runs here): the same script, the image's ENV, its
 * volumes mapped to temporary directories, its user when the test runs as root, and its CMD.
 * Ports are moved to free ones (as `docker run -e` would), since the defaults may be taken.
 */
const runtime = readDockerfile().at(-1)!;
const ENTRYPOINT = execForm(last(runtime, 'ENTRYPOINT')!.args);
const CMD = execForm(last(runtime, 'CMD')!.args);
const SCRIPT = repoPathOfImagePath(ENTRYPOINT[0]!);
const IMAGE_ENV = envOf(runtime);
const VOLUMES = volumesOf(runtime);
const masterKeyPath = IMAGE_ENV.TRUSTLINK_MASTER_KEY_FILE!;
const dataPath = IMAGE_ENV.TRUSTLINK_DATA_DIR!;
const USER = last(runtime, 'USER')!.args.split(':').map(Number) as [number, number];
/** True when a user other than the owner can reach the checkout (as /app is in the image). */
function othersCanReach(dir: string): boolean {
  for (let d = dir; ; d = path.dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === path.dirname(d)) return true;
  }
}
// Run as the image's user where the test may switch to it (CI runs as root), which also
// proves the volumes and the application files are usable by that user.
const AS_IMAGE_USER = process.getuid?.() === 0 && othersCanReach(path.dirname(SCRIPT));

interface Container {
  root: string;
  env: Record<string, string>;
  /** The host directory standing in for a volume of the image. */
  volume(imagePath: string): string;
}

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A container's file system: one temporary directory per volume, owned by the image user. */
async function container(extra: Record<string, string>): Promise<Container> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'trustlink-container-'));
  chmodSync(root, 0o755);
  roots.push(root);
  const volume = (p: string) => path.join(root, p);
  for (const v of VOLUMES) {
    mkdirSync(volume(v), { recursive: true, mode: 0o700 });
    // Docker creates the intermediate directories root-owned and world-searchable.
    for (let d = path.dirname(volume(v)); d !== root; d = path.dirname(d)) chmodSync(d, 0o755);
    if (AS_IMAGE_USER) chownSync(volume(v), USER[0], USER[1]);
  }
  const env: Record<string, string> = {};
  for (const [k, value] of Object.entries(IMAGE_ENV)) {
    const inVolume = VOLUMES.find((v) => value === v || value.startsWith(`${v}/`));
    env[k] = inVolume ? path.join(root, value) : value;
  }
  Object.assign(env, {
    TRUSTLINK_MANAGEMENT_PORT: String(await freePort()),
    TRUSTLINK_DEVICE_PORT: String(await freePort()),
    TRUSTLINK_MQTT_PORT: String(await freePort()),
    TRUSTLINK_PKI_HTTP_PORT: String(await freePort()),
    TRUSTLINK_LOG_LEVEL: 'warn',
    ...extra,
  });
  return { root, env, volume };
}

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function entrypoint(c: Container, args: string[] = CMD): Run {
  const child = spawn(SCRIPT, args, {
    cwd: path.dirname(path.dirname(SCRIPT)),
    env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, ...c.env },
    uid: AS_IMAGE_USER ? USER[0] : undefined,
    gid: AS_IMAGE_USER ? USER[1] : undefined,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

function healthcheck(c: Container): number | null {
  return spawnSync(SCRIPT, ['healthcheck'], {
    env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, ...c.env },
    uid: AS_IMAGE_USER ? USER[0] : undefined,
    gid: AS_IMAGE_USER ? USER[1] : undefined,
    timeout: 20_000,
  }).status;
}

function getStatus(port: number, p: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Waits until /readyz answers 200 on the PKI port, or the process ends (which fails). */
async function untilReady(c: Container, run: Run, timeoutMs = 150_000): Promise<void> {
  const port = Number(c.env.TRUSTLINK_PKI_HTTP_PORT);
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  void run.exited.then(() => (ended = true));
  while (Date.now() < deadline) {
    if (ended) throw new Error(`the entrypoint ended before it was ready:\n${run.stderr()}`);
    // `serve` writes the instance root into the data directory just after the ports open.
    const rootFile = path.join(c.volume(dataPath), 'oem-root-ca.pem');
    const rootWritten = () =>
      existsSync(rootFile) && readFileSync(rootFile, 'utf8').includes('END CERTIFICATE');
    if ((await getStatus(port, '/readyz')) === 200 && rootWritten()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`not ready within ${timeoutMs} ms:\n${run.stderr()}`);
}

/** How the process ended, killing it if it is still running after `ms` (a refusal is quick). */
async function exitCode(run: Run, ms = 30_000): Promise<number | null> {
  const timer = setTimeout(() => run.child.kill('SIGKILL'), ms);
  const code = await run.exited;
  clearTimeout(timer);
  return code;
}

async function stop(run: Run): Promise<number | null> {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGTERM');
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 30_000);
  const code = await run.exited;
  clearTimeout(timer);
  return code;
}

/** The device port's TLS, checked against the instance root as the only trusted CA. */
function deviceTls(
  port: number,
  rootPem: string,
): Promise<{ authorized: boolean; error?: string }> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect(
      { host: '127.0.0.1', port, servername: 'localhost', ca: rootPem, rejectUnauthorized: false },
      () => {
        resolve({
          authorized: sock.authorized,
          error: sock.authorizationError ? String(sock.authorizationError) : undefined,
        });
        sock.end();
      },
    );
    sock.on('error', reject);
  });
}

function deviceGet(
  port: number,
  rootPem: string,
  p: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: p, servername: 'localhost', ca: rootPem },
      (res) => {
        let body = '';
        res.on('data', (b: Buffer) => (body += b.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
  });
}

async function tableCount(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query(
      `select count(*)::int as n from information_schema.tables where table_schema = 'public'`,
    );
    return r.rows[0].n as number;
  } finally {
    await client.end();
  }
}

/** Places a master key where the image expects it, as a mounted secret would be. */
function mountMasterKey(c: Container, key: string): void {
  const file = c.volume(masterKeyPath);
  writeFileSync(file, `${key}\n`, { mode: 0o440 });
  if (AS_IMAGE_USER) chownSync(file, 0, USER[1]);
}

describe('the image entrypoint as a plain process', () => {
  it('names the script that this test runs, and the script is executable', () => {
    expect(existsSync(SCRIPT)).toBe(true);
    expect(statSync(SCRIPT).mode & 0o111).toBe(0o111);
    expect(spawnSync('sh', ['-n', SCRIPT]).status).toBe(0);
  });

  for (const dialect of TEST_DIALECTS) {
    describe(`on ${dialect}`, () => {
      const dbs: TestDatabase[] = [];
      afterAll(async () => {
        for (const db of dbs) await db.drop();
      });

      it('becomes ready and serves the device port with the instance TLS; stops on SIGTERM', async () => {
        const db = await createTestDatabase(dialect);
        dbs.push(db);
        // SQLite: the image's layout alone (the database in the data volume). PostgreSQL: a
        // replica, with the master key mounted as a secret.
        const c = await container(dialect === 'postgres' ? { TRUSTLINK_DATABASE_URL: db.url } : {});
        const key = randomBytes(32).toString('base64');
        if (dialect === 'postgres') mountMasterKey(c, key);
        const run = entrypoint(c);
        try {
          await untilReady(c, run);
          const rootPem = readFileSync(path.join(c.volume(dataPath), 'oem-root-ca.pem'), 'utf8');
          const devicePort = Number(c.env.TRUSTLINK_DEVICE_PORT);
          expect(await deviceTls(devicePort, rootPem)).toEqual({
            authorized: true,
            error: undefined,
          });
          const health = await deviceGet(devicePort, rootPem, '/readyz');
          expect(health.status).toBe(200);
          expect(JSON.parse(health.body).checks.database.detail).toBe(`${dialect} answers`);
          expect(healthcheck(c)).toBe(0);
          if (dialect === 'sqlite') {
            // The master key was made on its own volume, never in the data volume.
            const keyFile = c.volume(masterKeyPath);
            expect(statSync(keyFile).mode & 0o777).toBe(0o600);
            // Made by the server process, running as the image's user.
            expect(statSync(keyFile).uid).toBe(AS_IMAGE_USER ? USER[0] : process.getuid?.());
            expect(path.relative(c.volume(dataPath), keyFile).startsWith('..')).toBe(true);
          } else {
            expect(readFileSync(c.volume(masterKeyPath), 'utf8')).toBe(`${key}\n`);
          }
        } finally {
          expect(await stop(run)).toBe(0);
        }
        expect(healthcheck(c)).not.toBe(0);
      }, 240_000);
    });
  }

  describe('replica mode (PostgreSQL)', () => {
    const dbs: TestDatabase[] = [];
    afterAll(async () => {
      for (const db of dbs) await db.drop();
    });

    it('refuses to start without the master key, in one line, before touching the database', async () => {
      const db = await createTestDatabase('postgres');
      dbs.push(db);
      const missing = await container({ TRUSTLINK_DATABASE_URL: db.url });
      const run = entrypoint(missing);
      expect(await exitCode(run)).toBe(2);
      const lines = run.stderr().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^trustlink-entrypoint: replica mode \(PostgreSQL database\) needs the instance's master key/,
      );
      expect(lines[0]).toContain(missing.volume(masterKeyPath));
      expect(existsSync(missing.volume(masterKeyPath))).toBe(false);

      const empty = await container({ DATABASE_URL: db.url });
      mountMasterKey(empty, '');
      writeFileSync(empty.volume(masterKeyPath), '');
      const run2 = entrypoint(empty);
      expect(await exitCode(run2)).toBe(2);
      expect(run2.stderr()).toMatch(
        /^trustlink-entrypoint: replica mode: the master key file .* is empty\n$/,
      );

      expect(await tableCount(db.url)).toBe(0);
    }, 60_000);

    it('replicas started together on an empty database become one instance', async () => {
      const db = await createTestDatabase('postgres');
      dbs.push(db);
      const key = randomBytes(32).toString('base64');
      const containers: Container[] = [];
      for (let i = 0; i < 3; i++) {
        const c = await container({ TRUSTLINK_DATABASE_URL: db.url });
        mountMasterKey(c, key);
        containers.push(c);
      }
      const runs = containers.map((c) => entrypoint(c));
      try {
        await Promise.all(containers.map((c, i) => untilReady(c, runs[i]!)));
        const roots = containers.map((c) =>
          readFileSync(path.join(c.volume(dataPath), 'oem-root-ca.pem'), 'utf8'),
        );
        expect(new Set(roots).size).toBe(1);
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          const r = await client.query('select count(*)::int as n from instances');
          expect(r.rows[0].n).toBe(1);
        } finally {
          await client.end();
        }
      } finally {
        for (const run of runs) expect(await stop(run)).toBe(0);
      }
    }, 300_000);

    it('two replicas with the same key and database serve one instance', async () => {
      const db = await createTestDatabase('postgres');
      dbs.push(db);
      const key = randomBytes(32).toString('base64');
      const a = await container({ TRUSTLINK_DATABASE_URL: db.url });
      mountMasterKey(a, key);
      const runA = entrypoint(a);
      let runB: Run | undefined;
      try {
        await untilReady(a, runA);
        // The key may also come through the environment, as a secret manager would inject it.
        const b = await container({ TRUSTLINK_DATABASE_URL: db.url, TRUSTLINK_MASTER_KEY: key });
        runB = entrypoint(b);
        await untilReady(b, runB);
        const rootA = readFileSync(path.join(a.volume(dataPath), 'oem-root-ca.pem'), 'utf8');
        const rootB = readFileSync(path.join(b.volume(dataPath), 'oem-root-ca.pem'), 'utf8');
        expect(rootB).toBe(rootA);
        expect(await deviceTls(Number(b.env.TRUSTLINK_DEVICE_PORT), rootA)).toEqual({
          authorized: true,
          error: undefined,
        });
        // A replica with another master key is refused by the server itself.
        const c = await container({ TRUSTLINK_DATABASE_URL: db.url });
        mountMasterKey(c, randomBytes(32).toString('base64'));
        const runC = entrypoint(c);
        expect(await exitCode(runC, 120_000)).not.toBe(0);
        expect(runC.stderr()).toMatch(/master key/);
      } finally {
        if (runB) expect(await stop(runB)).toBe(0);
        expect(await stop(runA)).toBe(0);
      }
    }, 300_000);
  });
});
