import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localEnv, runCli } from '../src/test-helpers/test-cli.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

for (const dialect of TEST_DIALECTS) {
  describe(`trustlink user, token and audit commands on ${dialect}`, () => {
    let server: TestServer;
    let local: Record<string, string>;
    let remote: string[];
    let token: string;

    beforeAll(async () => {
      server = await startTestServer(dialect);
      local = localEnv(server);
      const ca = path.join(server.home, 'root.pem');
      writeFileSync(ca, server.rootPem);
      remote = ['--server', server.managementUrl, '--ca', ca];
    });
    afterAll(async () => {
      await server?.close();
    });

    it('ok/local mode: user add (password on stdin), user list, token create', async () => {
      const add = await runCli(
        [
          'user',
          'add',
          '--username',
          'ops',
          '--email',
          'ops@example.test',
          '--first-name',
          'Olga',
          '--last-name',
          'Ops',
          '--role',
          'administrator',
          '--password-stdin',
        ],
        local,
        'a sturdy operator passphrase\n',
      );
      expect(add.stderr).toBe('');
      expect(add.code).toBe(0);
      expect(add.stdout).toMatch(/^ops \(administrator\) id [0-9a-f-]{36}\n$/);
      const list = await runCli(['user', 'list'], local);
      expect(list.stdout).toMatch(
        /ops\s+administrator\s+Olga Ops\s+ops@example.test\s+on \(not enrolled\)\s+active/,
      );
      const made = await runCli(
        ['token', 'create', '--name', 'automation', '--user', 'ops'],
        local,
      );
      expect(made.code).toBe(0);
      token = made.stdout.trim();
      expect(token).toMatch(/^tlk_[A-Za-z0-9_-]{43}$/);
      expect(made.stderr).toMatch(/shown only now/);
    });

    it('ok/remote mode with the token: add, disable, list users; create and revoke a token', async () => {
      const r = [...remote, '--token', token];
      const add = await runCli(
        [
          'user',
          'add',
          ...r,
          '--username',
          'carol',
          '--email',
          'c@example.test',
          '--first-name',
          'Carol',
          '--last-name',
          'C',
          '--password-stdin',
          '--no-two-factor',
        ],
        {},
        'blue sky passphrase number one\n',
      );
      expect(add.stderr).toBe('');
      expect(add.stdout).toMatch(/^carol \(contributor\)/);
      const disable = await runCli(['user', 'disable', 'carol', ...r], {});
      expect(disable.stdout).toMatch(/carol \(contributor, disabled\)/);
      const list = await runCli(['user', 'list', ...r, '--json'], {});
      const users = JSON.parse(list.stdout) as {
        username: string;
        disabled: boolean;
        twoFactorEnabled: boolean;
      }[];
      expect(users.find((u) => u.username === 'carol')).toMatchObject({
        disabled: true,
        twoFactorEnabled: false,
      });

      const second = await runCli(
        ['token', 'create', '--name', 'short-lived', '--expires-days', '1', ...r, '--json'],
        {},
      );
      const made = JSON.parse(second.stdout) as {
        id: string;
        token: string;
        owner: { username: string };
      };
      expect(made.owner.username).toBe('ops');
      const revoke = await runCli(['token', 'revoke', made.id, ...r], {});
      expect(revoke.code).toBe(0);
      const tokens = await runCli(['token', 'list', ...r], {});
      expect(tokens.stdout).toMatch(new RegExp(`${made.id}\\s+short-lived\\s+ops\\s+revoked`));
      const refused = await runCli(['user', 'list', ...remote, '--token', made.token], {});
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/401 the API token is invalid, expired or revoked/);
    });

    it('ok/audit tail and verify, locally and remotely', async () => {
      const tail = await runCli(['audit', 'tail', '-n', '50'], local);
      expect(tail.code).toBe(0);
      expect(tail.stdout).toMatch(/ok\s+system:cli:\S+\s+user\.create user:ops/);
      expect(tail.stdout).toMatch(/token:ops\s+user\.disable user:carol/);
      const verifyLocal = await runCli(['audit', 'verify'], local);
      expect(verifyLocal.stdout).toMatch(/audit log OK/);
      expect(verifyLocal.code).toBe(0);
      const verifyRemote = await runCli(['audit', 'verify', ...remote, '--token', token], {});
      expect(verifyRemote.code).toBe(0);
      expect(verifyRemote.stdout).toMatch(/audit log OK/);
    });

    it('fail/bad input and the wrong place give one clear line and a non-zero exit', async () => {
      const weak = await runCli(
        [
          'user',
          'add',
          '--username',
          'weak',
          '--email',
          'w@example.test',
          '--first-name',
          'W',
          '--last-name',
          'W',
          '--password-stdin',
        ],
        local,
        'short\n',
      );
      expect(weak.code).not.toBe(0);
      expect(weak.stderr).toMatch(/password must be at least 12 characters/);
      const role = await runCli(
        [
          'user',
          'add',
          '--username',
          'r',
          '--email',
          'r@example.test',
          '--first-name',
          'R',
          '--last-name',
          'R',
          '--role',
          'root',
          '--password-stdin',
        ],
        local,
        'x\n',
      );
      expect(role.stderr).toMatch(/--role: use administrator or contributor/);
      const empty = mkdtempSync(path.join(os.tmpdir(), 'trustlink-empty-'));
      try {
        const none = await runCli(['user', 'list'], {
          TRUSTLINK_DATA_DIR: empty,
          TRUSTLINK_MASTER_KEY_FILE: path.join(empty, 'master.key'),
          TRUSTLINK_DATABASE_URL: `sqlite:${path.join(empty, 'trustlink.db')}`,
        });
        expect(none.code).toBe(2);
        expect(none.stderr).toMatch(/holds no Trustlink data/);
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    });
  });
}
