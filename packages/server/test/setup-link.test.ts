import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../src/auth/totp-fns.js';
import { localEnv, runCli } from '../src/test-helpers/test-cli.js';
import { createTestDatabase, TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { secretFromBase32 } from '../src/test-helpers/test-sign-in.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const tokenOf = (url: string) => url.split('#token=')[1]!;

const check = (server: TestServer, token: string) =>
  server.request('POST', '/api/v1/setup/check', { body: { token, username: 'admin' } });

/** Claims the instance through `server` with the link's token, as the setup page does. */
async function claim(server: TestServer, token: string) {
  const res = await check(server, token);
  expect(res.status, res.text).toBe(200);
  const { totp } = res.json<{ totp: { enrolmentId: string; secret: string } }>();
  return server.request('POST', '/api/v1/setup', {
    body: {
      token,
      username: 'admin',
      email: 'admin@example.test',
      firstName: 'Ada',
      lastName: 'Admin',
      password: 'correct horse battery staple',
      enrolmentId: totp.enrolmentId,
      code: totpCode(secretFromBase32(totp.secret), new Date()),
    },
  });
}

/**
 * Replicas of an unclaimed instance act as one server: the link the first of them printed keeps
 * working when others start (a rollout of N pods), until it is used or expires.
 */
describe('the setup link across replicas on one PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  let c: TestServer;
  let first: TestServer;
  let others: TestServer[];

  beforeAll(async () => {
    const env = { TRUSTLINK_MASTER_KEY: randomBytes(32).toString('base64') };
    const database = await createTestDatabase('postgres');
    // Two replicas start together on an empty database (a rollout), a third a moment later.
    [a, b] = await Promise.all([
      startTestServer('postgres', { env, database }),
      startTestServer('postgres', { env, database }),
    ]);
    c = await startTestServer('postgres', { env, database });
    first = [a, b].find((s) => s.setupUrl)!;
    others = [a, b, c].filter((s) => s !== first);
  }, 120_000);
  afterAll(async () => {
    await c?.close({ keepData: true });
    await b?.close({ keepData: true });
    await a?.close();
  });

  it('ok/only one replica issues a link; the others say one exists and when it was issued', () => {
    expect(first?.setupUrl).toMatch(/\/setup#token=[A-Za-z0-9_-]{43}$/);
    expect(first.earlierSetupLink).toBeUndefined();
    expect(others).toHaveLength(2);
    for (const s of others) {
      expect(s.setupUrl).toBeUndefined();
      expect(s.earlierSetupLink?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(Date.parse(s.earlierSetupLink!.expiresAt)).toBeGreaterThan(Date.now());
    }
  });

  it('ok/the first link still works on every replica after the others started', async () => {
    const token = tokenOf(first.setupUrl!);
    for (const s of [a, b, c]) expect((await check(s, token)).status).toBe(200);
  });

  it('ok/using it once through one replica voids it for all', async () => {
    const token = tokenOf(first.setupUrl!);
    const res = await claim(others[0]!, token);
    expect(res.status, res.text).toBe(201);
    for (const s of [a, b, c]) {
      const again = await check(s, token);
      expect(again.status).toBe(409);
    }
  });

  it('ok/a replica started after the claim issues no link', async () => {
    const d = await startTestServer('postgres', {
      env: { TRUSTLINK_MASTER_KEY: a.config.masterKey! },
      database: a.database,
    });
    try {
      expect(d.setupUrl).toBeUndefined();
      expect(d.earlierSetupLink).toBeUndefined();
    } finally {
      await d.close({ keepData: true });
    }
  });
});

/** `trustlink setup link` issues a new link on purpose and voids the one printed before. */
for (const dialect of TEST_DIALECTS) {
  describe(`trustlink setup link on ${dialect}`, () => {
    let server: TestServer;
    let env: Record<string, string>;
    let printed: string;
    beforeAll(async () => {
      server = await startTestServer(dialect);
      printed = tokenOf(server.setupUrl!);
      env = {
        ...localEnv(server),
        TRUSTLINK_MANAGEMENT_PORT: new URL(server.managementUrl).port,
      };
    }, 60_000);
    afterAll(async () => {
      await server?.close();
    });

    it('ok/a restart keeps the printed link working', async () => {
      const token = printed;
      await server.stop();
      server = await startTestServer(dialect, { database: server.database, home: server.home });
      expect(server.setupUrl).toBeUndefined();
      expect(server.earlierSetupLink).toBeDefined();
      expect((await check(server, token)).status).toBe(200);
      env.TRUSTLINK_MANAGEMENT_PORT = new URL(server.managementUrl).port;
    }, 60_000);

    it("ok/behind a load balancer the link names the console's address (TRUSTLINK_CONSOLE_URL)", async () => {
      const res = await runCli(['setup', 'link', '--json'], {
        ...env,
        TRUSTLINK_CONSOLE_URL: 'https://trustlink.example.com/',
      });
      expect(res.code, res.stderr).toBe(0);
      const { url } = JSON.parse(res.stdout) as { url: string };
      expect(url).toMatch(/^https:\/\/trustlink\.example\.com\/setup#token=[\w-]+$/);
      expect((await check(server, tokenOf(url))).status).toBe(200);
      const bad = await runCli(['setup', 'link'], {
        ...env,
        TRUSTLINK_CONSOLE_URL: 'http://trustlink.example.com',
      });
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toMatch(/TRUSTLINK_CONSOLE_URL/);
    });

    it('ok/the command prints a new link at the server address; the earlier link stops working', async () => {
      const old = await runCli(['setup', 'link', '--json'], env);
      expect(old.code, old.stderr).toBe(0);
      const first = JSON.parse(old.stdout) as { url: string; expiresAt: string };
      expect(first.url.startsWith(`${server.managementUrl}/setup#token=`)).toBe(true);
      const again = await runCli(['setup', 'link'], env);
      expect(again.code, again.stderr).toBe(0);
      const url = /https:\/\/\S+/.exec(again.stdout)![0];
      expect((await check(server, printed)).status).toBe(403);
      expect((await check(server, tokenOf(first.url))).status).toBe(403);
      expect((await check(server, tokenOf(url))).status).toBe(200);

      const claimed = await claim(server, tokenOf(url));
      expect(claimed.status, claimed.text).toBe(201);
    });

    it('fail/once an administrator exists the command refuses', async () => {
      const res = await runCli(['setup', 'link'], env);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/already has an administrator/);
    });
  });
}
