import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { startTestServer } from '../src/test-helpers/test-server.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');

/** Runs `trustlink serve` as a user would and returns how it ended. */
function serve(
  env: Record<string, string>,
  opts: { uid?: number; cwd?: string } = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'serve'], {
      cwd: opts.cwd ?? os.tmpdir(),
      env: {
        PATH: process.env.PATH ?? '',
        TRUSTLINK_LOG_LEVEL: 'silent',
        TRUSTLINK_BIND_ADDRESS: '127.0.0.1',
        ...env,
      },
      uid: opts.uid,
      gid: opts.uid,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** Every file and directory under a path with its size and modification time. */
function snapshot(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const s = statSync(p);
      out.push(`${path.relative(dir, p)} ${s.isDirectory() ? 'dir' : s.size} ${s.mtimeMs}`);
      if (s.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

const homes: string[] = [];
function newHome(): string {
  const h = mkdtempSync(path.join(os.tmpdir(), 'trustlink-badcfg-'));
  chmodSync(h, 0o755);
  homes.push(h);
  return h;
}
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function baseEnv(home: string): Record<string, string> {
  return {
    TRUSTLINK_DATA_DIR: path.join(home, 'data'),
    TRUSTLINK_MASTER_KEY_FILE: path.join(home, 'secrets', 'master.key'),
    TRUSTLINK_MANAGEMENT_PORT: '0',
    TRUSTLINK_DEVICE_PORT: '0',
  };
}

/** Checks: non-zero exit, exactly one line on stderr matching, and the home unchanged. */
async function expectRefused(
  env: Record<string, string>,
  home: string,
  message: RegExp,
  opts: { uid?: number } = {},
) {
  const before = snapshot(home);
  const { code, stderr } = await serve(env, { ...opts, cwd: home });
  expect(code).not.toBe(0);
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^trustlink: /);
  expect(lines[0]).toMatch(message);
  expect(snapshot(home)).toEqual(before);
}

describe('trustlink serve refuses bad configuration and changes nothing on disk', () => {
  it('fail/unknown database URL scheme', async () => {
    const home = newHome();
    await expectRefused(
      { ...baseEnv(home), TRUSTLINK_DATABASE_URL: 'mysql://root@127.0.0.1/x' },
      home,
      /TRUSTLINK_DATABASE_URL.*postgres/,
    );
  });

  it('fail/bad port value', async () => {
    const home = newHome();
    await expectRefused(
      { ...baseEnv(home), TRUSTLINK_DEVICE_PORT: 'eighty' },
      home,
      /TRUSTLINK_DEVICE_PORT/,
    );
  });

  it('fail/port in use', async () => {
    const home = newHome();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expectRefused(
        { ...baseEnv(home), TRUSTLINK_MANAGEMENT_PORT: String(port) },
        home,
        new RegExp(`TRUSTLINK_MANAGEMENT_PORT: 127.0.0.1:${port} is already in use`),
      );
    } finally {
      blocker.close();
    }
  });

  it('fail/unreadable data directory', async () => {
    const home = newHome();
    mkdirSync(path.join(home, 'data'), { mode: 0o700 });
    // Root reads any directory, so as root the server runs as an unprivileged user instead.
    const asRoot = process.getuid?.() === 0;
    if (!asRoot) chmodSync(path.join(home, 'data'), 0o000);
    try {
      await expectRefused(
        baseEnv(home),
        home,
        /data directory: cannot read and write/,
        asRoot ? { uid: 65534 } : {},
      );
    } finally {
      chmodSync(path.join(home, 'data'), 0o700);
    }
  });

  it('fail/data directory is a file', async () => {
    const home = newHome();
    writeFileSync(path.join(home, 'data'), 'not a directory');
    await expectRefused(baseEnv(home), home, /data directory: .* is not a directory/);
  });

  it('fail/unreachable PostgreSQL', async () => {
    const home = newHome();
    await expectRefused(
      { ...baseEnv(home), TRUSTLINK_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' },
      home,
      /database: cannot connect to postgres:\/\/postgres@127.0.0.1:1\/none/,
    );
  });

  for (const dialect of TEST_DIALECTS) {
    it(`fail/wrong master key on ${dialect}`, async () => {
      const first = await startTestServer(dialect);
      await first.close({ keepData: true });
      try {
        const env = {
          ...baseEnv(first.home),
          TRUSTLINK_DATABASE_URL: first.database.url,
          TRUSTLINK_MASTER_KEY: randomBytes(32).toString('base64'),
        };
        await expectRefused(
          env,
          first.home,
          /master key: the master key \(id [0-9a-f]{16}\) does not match this database/,
        );
      } finally {
        await first.database.drop();
        rmSync(first.home, { recursive: true, force: true });
      }
    });

    it(`fail/missing master key file over existing data on ${dialect}`, async () => {
      const first = await startTestServer(dialect);
      await first.close({ keepData: true });
      try {
        rmSync(path.join(first.home, 'secrets'), { recursive: true });
        const env = { ...baseEnv(first.home), TRUSTLINK_DATABASE_URL: first.database.url };
        await expectRefused(
          env,
          first.home,
          /master key: .*master.key does not exist, but .* holds data sealed with a master key/,
        );
      } finally {
        await first.database.drop();
        rmSync(first.home, { recursive: true, force: true });
      }
    });
  }

  it('ok/a fresh PostgreSQL database is created and served', async () => {
    const db = await createTestDatabase('postgres');
    const home = newHome();
    try {
      const server = await startTestServer('postgres', { database: db, home });
      expect((await server.request('GET', '/readyz')).status).toBe(200);
      await server.close({ keepData: true });
    } finally {
      await db.drop();
    }
  });
});
