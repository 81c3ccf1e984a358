import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../src/provisioning/provisioning-types.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { localEnv, runCli } from '../src/test-helpers/test-cli.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { firmwareApi } from '../src/test-helpers/test-firmware.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

for (const dialect of TEST_DIALECTS) {
  describe(`trustlink provisioning-task on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    const remote = (who: TestPrincipal) => ({
      TRUSTLINK_SERVER: server.managementUrl.replace('localhost', '127.0.0.1'),
      TRUSTLINK_TOKEN: who.token,
      TRUSTLINK_CA: path.join(server.home, 'root.pem'),
    });
    const createArgs = (name: string, kind = 'development') => [
      ...['provisioning-task', 'create', '--name', name, '--device-type', 'esp32-s3'],
      ...[
        '--bootloader-kind',
        kind,
        '--bootloader',
        'Bootloader',
        '--partition-table',
        'Partitions',
      ],
      ...['--ief', 'IEF', '--batch', 'Bench'],
    ];

    beforeAll(async () => {
      server = await startTestServer(dialect);
      ({ admin, contributor } = await createTestUsers(server));
      writeFileSync(path.join(server.home, 'root.pem'), server.rootPem);
      const fa = firmwareApi(server, admin);
      await fa.upload('name=Bootloader&version=1&format=esp32-sbv2', randomBytes(20_000));
      await fa.upload('name=Partitions&version=1', randomBytes(3072));
      await fa.upload('name=IEF&version=1&format=esp32-sbv2', randomBytes(50_000));
      await fa.batch('Bench');
    });
    afterAll(async () => server?.close());

    it('ok/create (remote, by name), list, runs and delete (local); refusals are one clear line', async () => {
      const created = await runCli(createArgs('Bench S3'), remote(admin));
      expect(created.code, created.stderr).toBe(0);
      const id = created.stdout.trim();
      const got = await server.request('GET', `/api/v1/provisioning-tasks/${id}`, {
        headers: admin.headers,
      });
      expect(got.json<Task>()).toMatchObject({
        name: 'Bench S3',
        deviceType: 'esp32-s3',
        bootloaderKind: 'development',
        batch: { name: 'Bench' },
      });

      // The server's refusals: a contributor; a release bootloader on a batch without a key.
      const denied = await runCli(createArgs('Other'), remote(contributor));
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toMatch(/403|administrator/i);
      const release = await runCli(createArgs('Release', 'release'), remote(admin));
      expect(release.code).not.toBe(0);
      expect(release.stderr).toMatch(/batch "Bench" has no signing key/);

      const list = await runCli(['provisioning-task', 'list'], localEnv(server));
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(/Bench S3\s+esp32-s3\s+development\s+IEF\s+Bench/);

      // Runs: three started in the console (by API here), one ended as failed.
      const started: string[] = [];
      for (let n = 0; n < 3; n++) {
        const r = await server.request('POST', `/api/v1/provisioning-tasks/${id}/runs`, {
          headers: contributor.headers,
          body: { wifi: { ssid: 'Line 2', password: 'line-two-secret' } },
        });
        expect(r.status, r.text).toBe(201);
        started.push(r.json<{ run: { id: string } }>().run.id);
      }
      const failed = await server.request(
        'POST',
        `/api/v1/provisioning-tasks/${id}/runs/${started[2]}/failure`,
        { headers: contributor.headers, body: { reason: 'the port closed while writing' } },
      );
      expect(failed.status, failed.text).toBe(200);
      const runs = await runCli(
        ['provisioning-task', 'runs', 'Bench S3', '--limit', '2'],
        remote(contributor),
      );
      expect(runs.code, runs.stderr).toBe(0);
      const lines = runs.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^STARTED\s+STATUS\s+DEVICE ID\s+ENDED\s+BY\s+REASON$/);
      expect(lines[1]).toMatch(/\sfailed\s+-\s+\d{4}-.*the port closed while writing$/);
      expect(lines[2]).toMatch(/\sstarted\s+-\s+-\s/);
      expect(lines[3]).toBe('(1-2 of 3; --offset for more)');
      const json = await runCli(
        ['provisioning-task', 'runs', id, '--offset', '2', '--json'],
        localEnv(server),
      );
      expect(json.code, json.stderr).toBe(0);
      const page = JSON.parse(json.stdout) as { items: { id: string }[]; total: number };
      expect(page).toMatchObject({ total: 3, items: [{ id: started[0] }] });
      const bad = await runCli(['provisioning-task', 'runs', id, '--limit', '0'], localEnv(server));
      expect(bad.code).not.toBe(0);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toMatch(/--limit/);

      const del = await runCli(['provisioning-task', 'delete', 'Bench S3'], localEnv(server));
      expect(del.code, del.stderr).toBe(0);
      expect(del.stdout).toBe(`deleted provisioning task Bench S3 (${id})\n`);
      const after = await server.request('GET', '/api/v1/provisioning-tasks', {
        headers: admin.headers,
      });
      expect(after.json<{ items: Task[] }>().items).toEqual([]);
    }, 120_000);
  });
}
