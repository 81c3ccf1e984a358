import {
  buildProofInput,
  deviceIdFromSpki,
  nodeKeySigner,
  signProof,
  type ProofPurpose,
} from '@trustlink/protocol';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declaredRoutes } from '../src/lib/route-access.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { runCli, localEnv } from '../src/test-helpers/test-cli.js';
import { createTestClock, type TestClock } from '../src/test-helpers/test-clock.js';
import { deviceKey, type TestDeviceKey } from '../src/test-helpers/test-csr.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { createPolicyAndBatch, register } from '../src/test-helpers/test-devices.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const REGISTER = '/api/v1/manufacturing/devices';
const CHALLENGE = '/api/v1/manufacturing/challenge';
const HOUR = 3_600_000;

const idOf = (d: TestDeviceKey) => {
  const r = deviceIdFromSpki(d.spkiDer);
  if (!r.ok) throw new Error(r.detail);
  return r.deviceId;
};

for (const dialect of TEST_DIALECTS) {
  describe(`manufacturing credentials on ${dialect}`, () => {
    let server: TestServer;
    let clock: TestClock;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    let batchA: string;
    let batchB: string;

    beforeAll(async () => {
      clock = createTestClock();
      server = await startTestServer(dialect, { now: clock.now });
      ({ admin, contributor } = await createTestUsers(server));
      batchA = (
        await createPolicyAndBatch(server, admin, 'line-a', {
          keyTypes: ['P-256', 'P-384', 'RSA-2048', 'RSA-3072'],
        })
      ).batchId;
      batchB = (await createPolicyAndBatch(server, admin, 'line-b')).batchId;
    });
    afterAll(async () => {
      await server?.close();
    });

    async function create(body: Record<string, unknown>, who = admin) {
      return server.request('POST', '/api/v1/manufacturing-credentials', {
        headers: who.headers,
        body: {
          name: 'line 3',
          batchId: batchA,
          notAfter: new Date(clock.now().getTime() + HOUR).toISOString(),
          maxDevices: 10,
          ...body,
        },
      });
    }
    async function credential(body: Record<string, unknown> = {}) {
      const r = await create(body);
      expect(r.status, r.text).toBe(201);
      return r.json<{ id: string; value: string }>();
    }
    const bearer = (value: string) => ({ authorization: `Bearer ${value}` });

    async function nonceFor(value: string): Promise<string> {
      const r = await server.request('POST', CHALLENGE, { headers: bearer(value), body: {} });
      expect(r.status, r.text).toBe(200);
      return r.json<{ nonce: string }>().nonce;
    }

    /** The body a station sends: the device key and its proof over a fresh challenge. */
    async function registration(
      value: string,
      d: TestDeviceKey,
      opts: { signer?: TestDeviceKey; purpose?: ProofPurpose; nonce?: string } = {},
    ) {
      const nonce = opts.nonce ?? (await nonceFor(value));
      const input = buildProofInput({
        purpose: opts.purpose ?? 'register',
        host: '127.0.0.1',
        method: 'POST',
        path: REGISTER,
        nonce,
        body: d.spkiDer,
      });
      const signature = await signProof(input, nodeKeySigner((opts.signer ?? d).privateKey));
      return {
        spki: d.spkiDer.toString('base64url'),
        nonce,
        signature: signature.toString('base64url'),
      };
    }
    const post = (value: string, body: unknown) =>
      server.request('POST', REGISTER, { headers: bearer(value), body });

    async function batchDevices(batchId: string) {
      const r = await server.request('GET', `/api/v1/batches/${batchId}/devices`, {
        headers: admin.headers,
      });
      return r.json<{ items: { id: string; state: string }[] }>().items;
    }

    it('ok/administrators create a credential shown once, listed without its value', async () => {
      const r = await create({ name: 'line 3 week 48', maxDevices: 2 });
      expect(r.status).toBe(201);
      expect(r.headers['cache-control']).toBe('no-store');
      const c = r.json<{ id: string; value: string; hint: string; status: string }>();
      expect(c.value).toMatch(/^tlm_[A-Za-z0-9_-]{43}$/);
      expect(c).toMatchObject({ hint: c.value.slice(-4), status: 'active', usedDevices: 0 });
      const list = await server.request('GET', '/api/v1/manufacturing-credentials', {
        headers: admin.headers,
      });
      expect(list.status).toBe(200);
      expect(list.text).not.toContain(c.value);
      expect(list.json<{ items: { id: string }[] }>().items.map((x) => x.id)).toContain(c.id);
      // Only its hash is stored.
      const row = await server.runtime.db.kysely
        .selectFrom('manufacturing_credentials')
        .selectAll()
        .where('id', '=', c.id)
        .executeTakeFirstOrThrow();
      expect(JSON.stringify(row)).not.toContain(c.value.slice(4));
    });

    it.each([
      ['fail/no batch', { batchId: 'nope' }, /batch nope does not exist/],
      ['fail/past not-after', { notAfter: '2020-01-01T00:00:00Z' }, /in the past/],
      ['fail/zero devices', { maxDevices: 0 }, /maxDevices/],
      ['fail/fractional devices', { maxDevices: 1.5 }, /maxDevices/],
      ['fail/unknown field', { scope: 'all' }, /scope|unrecognized/i],
      ['fail/bad name', { name: 'a/b' }, /name/],
    ])('%s is a 400 and creates nothing', async (_n, body, message) => {
      const before = (await server.runtime.manufacturing.list(server.runtime.instance.id)).length;
      const r = await create(body);
      expect(r.status).toBe(400);
      expect(r.text).toMatch(message);
      expect((await server.runtime.manufacturing.list(server.runtime.instance.id)).length).toBe(
        before,
      );
    });

    it('fail/contributors may not create, list or delete credentials', async () => {
      expect((await create({}, contributor)).status).toBe(403);
      const list = await server.request('GET', '/api/v1/manufacturing-credentials', {
        headers: contributor.headers,
      });
      expect(list.status).toBe(403);
    });

    it('ok/a station registers the ID of the key it proves; again is harmless and free', async () => {
      const c = await credential({ maxDevices: 3 });
      const d = deviceKey('P-256');
      const first = await post(c.value, await registration(c.value, d));
      expect(first.status, first.text).toBe(201);
      expect(first.json()).toMatchObject({ deviceId: idOf(d), batchId: batchA, added: true });
      expect(await batchDevices(batchA)).toContainEqual(
        expect.objectContaining({ id: idOf(d), state: 'registered' }),
      );

      const again = await post(c.value, await registration(c.value, d));
      expect(again.status, again.text).toBe(200);
      expect(again.json()).toMatchObject({ deviceId: idOf(d), added: false });
      const listed = (await server.runtime.manufacturing.list(server.runtime.instance.id)).find(
        (x) => x.id === c.id,
      );
      expect(listed).toMatchObject({ usedDevices: 1, maxDevices: 3 });

      // Every key type the protocol knows.
      for (const type of ['P-384', 'RSA-2048'] as const) {
        const k = deviceKey(type);
        const r = await post(c.value, await registration(c.value, k));
        expect(r.status, `${type}: ${r.text}`).toBe(201);
      }
      const used = await post(c.value, await registration(c.value, deviceKey('P-256')));
      expect(used.status).toBe(403);
      expect(used.json()).toMatchObject({
        type: expect.stringMatching(/credential-used-up$/),
        detail: expect.stringMatching(/registered its 3 devices/),
      });
      // A used-up credential still confirms a device it already added.
      expect((await post(c.value, await registration(c.value, d))).status).toBe(200);
    });

    it('ok/stations racing never overrun the count, nor count one device twice', async () => {
      const c = await credential({ name: 'racing', maxDevices: 3 });
      const bodies = await Promise.all(
        Array.from({ length: 6 }, () => registration(c.value, deviceKey('P-256'))),
      );
      const statuses = (await Promise.all(bodies.map((b) => post(c.value, b)))).map(
        (r) => r.status,
      );
      expect(statuses.filter((x) => x === 201)).toHaveLength(3);
      expect(statuses.filter((x) => x === 403)).toHaveLength(3);

      const same = await credential({ name: 'same device', maxDevices: 5 });
      const d = deviceKey('P-256');
      const sameBodies = await Promise.all(
        Array.from({ length: 4 }, () => registration(same.value, d)),
      );
      const answers = await Promise.all(sameBodies.map((b) => post(same.value, b)));
      expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200, 201]);
      const list = await server.runtime.manufacturing.list(server.runtime.instance.id);
      expect(list.find((x) => x.id === c.id)?.usedDevices).toBe(3);
      expect(list.find((x) => x.id === same.id)?.usedDevices).toBe(1);
    });

    it('fail/the ID comes from the proven key: a signature by another key is refused', async () => {
      const c = await credential();
      const d = deviceKey('P-256');
      const body = await registration(c.value, d, { signer: deviceKey('P-256') });
      const r = await post(c.value, body);
      expect(r.status).toBe(400);
      expect(r.json()).toMatchObject({ type: expect.stringMatching(/proof-rejected$/) });
      expect(await batchDevices(batchA)).not.toContainEqual(
        expect.objectContaining({ id: idOf(d) }),
      );
    });

    it('fail/proofs for another purpose, a used nonce, a made-up nonce', async () => {
      const c = await credential();
      const d = deviceKey('P-256');
      const enrolProof = await post(c.value, await registration(c.value, d, { purpose: 'enrol' }));
      expect(enrolProof.status).toBe(400);
      expect(enrolProof.text).toMatch(/bad-signature/);

      const body = await registration(c.value, d);
      expect((await post(c.value, body)).status).toBe(201);
      const replay = await post(c.value, body);
      expect(replay.status).toBe(409);
      expect(replay.json()).toMatchObject({ type: expect.stringMatching(/challenge-replayed$/) });

      const forged = await post(
        c.value,
        await registration(c.value, deviceKey('P-256'), { nonce: 'A'.repeat(76) }),
      );
      expect(forged.status).toBe(400);
      const garbage = await post(c.value, { spki: 'AAAA', nonce: 'x', signature: 'y', id: 'z' });
      expect(garbage.status).toBe(400);
    });

    it('fail/a key the batch policy does not accept is refused before it is registered', async () => {
      const { batchId } = await createPolicyAndBatch(server, admin, 'p256-only', {
        keyTypes: ['P-256'],
      });
      const c = await credential({ name: 'p256 line', batchId });
      const d = deviceKey('P-384');
      const r = await post(c.value, await registration(c.value, d));
      expect(r.status).toBe(400);
      expect(r.json()).toMatchObject({
        type: expect.stringMatching(/key-type-not-allowed$/),
        detail: expect.stringMatching(/P-384/),
      });
      expect(await batchDevices(batchId)).toEqual([]);
      expect((await post(c.value, await registration(c.value, deviceKey('P-256')))).status).toBe(
        201,
      );
    });

    it('fail/an ID already in another batch is a 409 and changes nothing', async () => {
      const c = await credential();
      const d = deviceKey('P-256');
      await register(server, admin, batchB, idOf(d));
      const r = await post(c.value, await registration(c.value, d));
      expect(r.status).toBe(409);
      expect(r.json()).toMatchObject({ type: expect.stringMatching(/device-in-other-batch$/) });
      expect(await batchDevices(batchA)).not.toContainEqual(
        expect.objectContaining({ id: idOf(d) }),
      );
    });

    it('fail/expired and deleted credentials are 401 with a reason the station can act on', async () => {
      const short = await credential({
        name: 'short',
        notAfter: new Date(clock.now().getTime() + 60_000).toISOString(),
      });
      const deleted = await credential({ name: 'gone' });
      const body = await registration(short.value, deviceKey('P-256'));
      clock.advance(61_000);
      const expired = await post(short.value, body);
      expect(expired.status).toBe(401);
      expect(expired.json()).toMatchObject({
        type: expect.stringMatching(/credential-expired$/),
        detail: expect.stringMatching(/"short" expired at/),
      });
      const listed = await server.request('GET', '/api/v1/manufacturing-credentials', {
        headers: admin.headers,
      });
      expect(
        listed
          .json<{ items: { id: string; status: string }[] }>()
          .items.find((x) => x.id === short.id)?.status,
      ).toBe('expired');

      const del = await server.request(
        'DELETE',
        `/api/v1/manufacturing-credentials/${deleted.id}`,
        { headers: admin.headers },
      );
      expect(del.status).toBe(204);
      const after = await server.request('POST', CHALLENGE, {
        headers: bearer(deleted.value),
        body: {},
      });
      expect(after.status).toBe(401);
      expect(after.json()).toMatchObject({ type: expect.stringMatching(/credential-invalid$/) });
      expect(
        (
          await server.request('DELETE', `/api/v1/manufacturing-credentials/${deleted.id}`, {
            headers: admin.headers,
          })
        ).status,
      ).toBe(404);
    });

    it('fail/a batch a credential belongs to cannot be deleted until the credential is', async () => {
      const { batchId } = await createPolicyAndBatch(server, admin, 'short-lived');
      const c = await credential({ name: 'short-lived station', batchId });
      const del = () =>
        server.request('DELETE', `/api/v1/batches/${batchId}`, { headers: admin.headers });
      const refused = await del();
      expect(refused.status).toBe(409);
      expect(refused.text).toMatch(/manufacturing credentials/);
      await server.request('DELETE', `/api/v1/manufacturing-credentials/${c.id}`, {
        headers: admin.headers,
      });
      expect((await del()).status).toBe(204);
    });

    it('fail/station routes refuse API tokens, sessions and no credential', async () => {
      for (const headers of [admin.headers, {}, { authorization: 'Basic eDp5' }]) {
        const r = await server.request('POST', CHALLENGE, { headers, body: {} });
        expect(r.status).toBe(401);
      }
    });

    it('fail/the credential opens no other route on either listener', async () => {
      const c = await credential({ name: 'probe' });
      const of = (name: 'management' | 'device', app: FastifyInstance) =>
        declaredRoutes(app).map((route) => ({ name, route }));
      const routes = [
        ...of('management', server.apps.management),
        ...of('device', server.apps.device),
      ].filter((r) => r.route.access !== 'manufacturing' && r.route.access !== 'public');
      expect(routes.length).toBeGreaterThan(20);
      for (const { name, route } of routes) {
        const url = route.url.replace(/:[A-Za-z0-9_]+/g, 'x').replace(/\*$/, 'x');
        const send = name === 'management' ? server.request : server.deviceRequest;
        const r = await send(route.method, url, { headers: bearer(c.value) });
        const label = `${name} ${route.method} ${route.url}`;
        if (route.access === 'device') {
          // The device API has its own checks: whatever it answers, never success.
          expect(r.status, label).toBeGreaterThanOrEqual(400);
          expect(r.status, label).toBeLessThan(500);
        } else expect(r.status, label).toBe(401);
      }
    });

    it('ok/every change and refusal is in the audit log, without the credential', async () => {
      const c = await credential({ name: 'audited' });
      const d = deviceKey('P-256');
      expect((await post(c.value, await registration(c.value, d))).status).toBe(201);
      await server.request('DELETE', `/api/v1/manufacturing-credentials/${c.id}`, {
        headers: admin.headers,
      });
      await post(c.value, {});
      const r = await server.request('GET', '/api/v1/audit?limit=500', { headers: admin.headers });
      expect(r.text).not.toContain(c.value);
      const entries = r.json<{
        entries: { action: string; actor: { name: string }; details: Record<string, unknown> }[];
      }>().entries;
      const actions = entries.map((e) => e.action);
      expect(actions).toEqual(
        expect.arrayContaining([
          'manufacturing.credential.create',
          'manufacturing.credential.delete',
          'manufacturing.credential.rejected',
        ]),
      );
      expect(entries).toContainEqual(
        expect.objectContaining({
          action: 'batch.devices.register',
          actor: expect.objectContaining({ name: 'manufacturing:audited' }),
          details: expect.objectContaining({ deviceIds: [idOf(d)], credentialId: c.id }),
        }),
      );
    });

    it('ok/the OpenAPI document says the station routes take a manufacturing credential', async () => {
      const doc = (await server.request('GET', '/api/docs/json')).json<{
        paths: Record<string, Record<string, { security?: unknown[]; description?: string }>>;
      }>();
      expect(doc.paths[REGISTER]?.post?.security).toEqual([{ manufacturingCredential: [] }]);
      expect(doc.paths['/api/v1/manufacturing-credentials']?.post?.description).toMatch(
        /administrators only/,
      );
    });

    it('ok/CLI: create, list and delete, locally and against the server', async () => {
      const local = localEnv(server);
      const made = await runCli(
        [
          'manufacturing-credential',
          'create',
          '--name',
          'cli local',
          '--batch',
          'line-a',
          '--max-devices',
          '5',
          '--hours',
          '8',
        ],
        local,
      );
      expect(made.stderr).toBe('');
      expect(made.code).toBe(0);
      expect(made.stdout).toMatch(/^tlm_[A-Za-z0-9_-]{43}\n$/);
      // The value works for a station at once.
      expect(
        (await post(made.stdout.trim(), await registration(made.stdout.trim(), deviceKey('P-256'))))
          .status,
      ).toBe(201);

      const remote = {
        TRUSTLINK_SERVER: server.managementUrl,
        TRUSTLINK_TOKEN: admin.token,
        TRUSTLINK_CA: path.join(server.home, 'root.pem'),
      };
      writeFileSync(remote.TRUSTLINK_CA, server.rootPem);
      const remoteMade = await runCli(
        [
          'manufacturing-credential',
          'create',
          '--name',
          'cli remote',
          '--batch',
          batchA,
          '--max-devices',
          '3',
          '--not-after',
          new Date(Date.now() + 48 * HOUR).toISOString(),
        ],
        remote,
      );
      expect(remoteMade.stderr).toBe('');
      expect(remoteMade.stdout).toMatch(/^tlm_/);

      const list = await runCli(['manufacturing-credential', 'list'], local);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/cli local\s+active\s+1\/5/);
      expect(list.stdout).toMatch(/cli remote\s+active\s+0\/3/);
      expect(list.stdout).not.toContain(made.stdout.trim());

      const del = await runCli(['manufacturing-credential', 'delete', 'cli remote'], remote);
      expect(del.code).toBe(0);
      expect(del.stdout).toMatch(/deleted manufacturing credential cli remote/);
      const json = await runCli(['manufacturing-credential', 'list', '--json'], local);
      expect(JSON.parse(json.stdout).map((x: { name: string }) => x.name)).not.toContain(
        'cli remote',
      );

      const bad = await runCli(
        [
          'manufacturing-credential',
          'create',
          '--name',
          'x',
          '--batch',
          'line-a',
          '--max-devices',
          '0',
        ],
        local,
      );
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/--max-devices/);
      const none = await runCli(['manufacturing-credential', 'delete', 'no-such'], local);
      expect(none.code).not.toBe(0);
      expect(none.stderr).toMatch(/no manufacturing credential "no-such"/);
    }, 300_000);
  });
}
