import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { deviceIds } from '../src/test-helpers/test-fleet.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const policyBody = {
  name: 'API line',
  connectionType: 'iot-hub',
  deviceCertificate: { lifetime: { value: 90, unit: 'days' }, keyTypes: ['P-256'] },
  issuingCertificate: { lifetime: { value: 2, unit: 'years' } },
};

for (const dialect of TEST_DIALECTS) {
  describe(`policies, batches, auth certs and tokens over the API on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    let policyId: string;
    let batchId: string;

    beforeAll(async () => {
      server = await startTestServer(dialect);
      ({ admin, contributor } = await createTestUsers(server));
    });
    afterAll(async () => server?.close());

    it('ok/a contributor creates a policy and a batch; both are audited', async () => {
      const p = await server.request('POST', '/api/v1/policies', {
        headers: contributor.headers,
        body: policyBody,
      });
      expect(p.status).toBe(201);
      policyId = p.json<{ id: string }>().id;
      const b = await server.request('POST', '/api/v1/batches', {
        headers: contributor.headers,
        body: { name: 'API batch', policyId },
      });
      expect(b.status).toBe(201);
      batchId = b.json<{ id: string }>().id;
      const log = await server.runtime.audit.recent(server.runtime.instance.id, 5);
      expect(log.map((e) => e.action)).toEqual(
        expect.arrayContaining(['policy.create', 'batch.create']),
      );
      expect(log.find((e) => e.action === 'batch.create')!.actor.name).toBe(
        contributor.user.username,
      );
    });

    it('fail/bad policy: 400 problem with the field and reason, nothing stored', async () => {
      const res = await server.request('POST', '/api/v1/policies', {
        headers: admin.headers,
        body: {
          ...policyBody,
          name: 'Too long',
          deviceCertificate: { lifetime: { value: 3, unit: 'years' } },
        },
      });
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({
        type: expect.stringContaining('validation-failed'),
        detail: expect.stringContaining('must not exceed'),
      });
      const res2 = await server.request('POST', '/api/v1/policies', {
        headers: admin.headers,
        body: { ...policyBody, name: '', bogus: 1 },
      });
      expect(res2.status).toBe(400);
      const list = await server.request('GET', '/api/v1/policies', { headers: admin.headers });
      expect(list.json<{ items: { name: string }[] }>().items.map((p) => p.name)).toEqual([
        'API line',
      ]);
    });

    it('ok/upload device IDs, list them a page at a time, counts follow', async () => {
      const ids = deviceIds(120);
      const up = await server.request('POST', `/api/v1/batches/${batchId}/devices/upload`, {
        headers: contributor.headers,
        body: { devices: ids },
      });
      expect(up.status).toBe(200);
      expect(up.json()).toEqual({ added: 120, alreadyInBatch: 0 });
      const one = await server.request('POST', `/api/v1/batches/${batchId}/devices`, {
        headers: contributor.headers,
        body: { deviceId: deviceIds(1)[0] },
      });
      expect(one.json()).toEqual({ added: 1, alreadyInBatch: 0 });
      const page = await server.request(
        'GET',
        `/api/v1/batches/${batchId}/devices?offset=100&limit=50`,
        { headers: contributor.headers },
      );
      expect(page.json<{ total: number; items: unknown[] }>()).toMatchObject({ total: 121 });
      expect(page.json<{ items: unknown[] }>().items).toHaveLength(21);
      const batches = await server.request('GET', '/api/v1/batches', {
        headers: contributor.headers,
      });
      expect(
        batches.json<{ items: { counts: { devices: number } }[] }>().items[0]!.counts.devices,
      ).toBe(121);
    });

    it('fail/an upload with bad lines lists them and adds nothing', async () => {
      const res = await server.request('POST', `/api/v1/batches/${batchId}/devices/upload`, {
        headers: contributor.headers,
        body: { devices: [...deviceIds(2), 'not-an-id', 12] },
      });
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({
        type: expect.stringContaining('device-list-rejected'),
        problemCount: 2,
        problems: [
          { entry: 3, value: 'not-an-id', reason: 'not hexadecimal' },
          { entry: 4, value: '12', reason: 'not a string' },
        ],
      });
      const b = await server.request('GET', `/api/v1/batches/${batchId}`, {
        headers: contributor.headers,
      });
      expect(b.json<{ counts: { devices: number } }>().counts.devices).toBe(121);
    });

    it('fail/not JSON of the documented shape', async () => {
      const res = await server.request('POST', `/api/v1/batches/${batchId}/devices/upload`, {
        headers: admin.headers,
        body: { ids: [] },
      });
      expect(res.status).toBe(400);
      const empty = await server.request('POST', `/api/v1/batches/${batchId}/devices/upload`, {
        headers: admin.headers,
        body: { devices: [] },
      });
      expect(empty.status).toBe(400);
      expect(empty.json<{ detail: string }>().detail).toMatch(/the list is empty/);
    });

    it('ok/tokens: administrators only, the value once', async () => {
      const body = {
        name: 'Line token',
        batchId,
        notBefore: new Date().toISOString(),
        notAfter: new Date(Date.now() + 86_400_000).toISOString(),
      };
      expect(
        (
          await server.request('POST', '/api/v1/enrolment-tokens', {
            headers: contributor.headers,
            body,
          })
        ).status,
      ).toBe(403);
      expect(
        (await server.request('GET', '/api/v1/enrolment-tokens', { headers: contributor.headers }))
          .status,
      ).toBe(403);
      const created = await server.request('POST', '/api/v1/enrolment-tokens', {
        headers: admin.headers,
        body,
      });
      expect(created.status).toBe(201);
      const { value } = created.json<{ value: string }>();
      expect(value).toMatch(/^[0-9a-f]{32}$/);
      const list = await server.request('GET', '/api/v1/enrolment-tokens', {
        headers: admin.headers,
      });
      expect(list.text).not.toContain(value);
      expect(list.json<{ items: unknown[] }>().items).toHaveLength(1);
    });

    it('ok/enrolment tokens are audited as enrolment-token.*, apart from API tokens; old entries still found', async () => {
      const i = server.runtime.instance.id;
      const made = await server.request('POST', '/api/v1/enrolment-tokens', {
        headers: admin.headers,
        body: {
          name: 'Audited token',
          batchId,
          notBefore: new Date().toISOString(),
          notAfter: new Date(Date.now() + 86_400_000).toISOString(),
        },
      });
      expect(made.status, made.text).toBe(201);
      const token = made.json<{ id: string }>();
      const gone = await server.request('DELETE', `/api/v1/enrolment-tokens/${token.id}`, {
        headers: admin.headers,
      });
      expect(gone.status, gone.text).toBe(204);
      const api = await server.request('POST', '/api/v1/tokens', {
        headers: admin.headers,
        body: { name: 'automation', expiresInDays: 30 },
      });
      expect(api.status, api.text).toBe(201);
      // Entries as the log held them before the rename (appended here, never rewritten).
      const actor = { type: 'user' as const, id: null, name: 'before-the-rename' };
      await server.runtime.audit.record({
        instanceId: i,
        actor,
        action: 'token.create',
        target: { type: 'token', id: 'old-1', name: 'Old line token' },
        result: 'ok',
        details: { batchId, notBefore: 'x', notAfter: 'y' },
      });
      await server.runtime.audit.record({
        instanceId: i,
        actor,
        action: 'token.delete',
        target: { type: 'token', id: 'old-1', name: 'Old line token' },
        result: 'ok',
      });
      type Page = { entries: { action: string; target: { type: string; id: string } | null }[] };
      const byAction = async (action: string) => {
        const r = await server.request('GET', `/api/v1/audit?action=${action}&limit=100`, {
          headers: admin.headers,
        });
        expect(r.status, r.text).toBe(200);
        return r.json<Page>().entries.map((e) => `${e.action} ${e.target?.type}:${e.target?.id}`);
      };
      const created = await byAction('enrolment-token.create');
      expect(created).toContain(`enrolment-token.create enrolment-token:${token.id}`);
      expect(created).toContain('token.create token:old-1');
      // The API token's creation is not an enrolment token's.
      expect(created.filter((e) => e.startsWith('token.create'))).toEqual([
        'token.create token:old-1',
      ]);
      expect(await byAction('enrolment-token.delete')).toEqual([
        'token.delete token:old-1',
        `enrolment-token.delete enrolment-token:${token.id}`,
      ]);
      // API tokens keep their names, and nothing of enrolment tokens is recorded under them now.
      const apiCreated = await byAction('token.create');
      expect(apiCreated.some((e) => e.includes(token.id))).toBe(false);
      expect(apiCreated.length).toBeGreaterThanOrEqual(2);
      // The chain, old-named entries and all, still verifies.
      const verified = await server.request('POST', '/api/v1/audit/verify', {
        headers: admin.headers,
      });
      expect(verified.status, verified.text).toBe(200);
      expect(verified.json()).toMatchObject({ ok: true });
    });

    it('fail/contributors cannot import auth certs; bad PEM is a 400', async () => {
      const body = { pem: 'not a pem', batchId, rule: 'requires-token' };
      expect(
        (await server.request('POST', '/api/v1/auth-certs', { headers: contributor.headers, body }))
          .status,
      ).toBe(403);
      const res = await server.request('POST', '/api/v1/auth-certs', {
        headers: admin.headers,
        body,
      });
      expect(res.status).toBe(400);
      expect(res.json<{ detail: string }>().detail).toMatch(/no PEM certificate found/);
    });

    it('fail/anonymous callers get 401 everywhere here', async () => {
      for (const [m, p] of [
        ['GET', '/api/v1/policies'],
        ['GET', '/api/v1/batches'],
        ['GET', '/api/v1/auth-certs'],
        ['POST', '/api/v1/batches'],
      ] as const) {
        expect((await server.request(m, p, { body: m === 'POST' ? {} : undefined })).status).toBe(
          401,
        );
      }
    });

    it('fail/a policy in use is not deleted (409), an unused one is', async () => {
      const res = await server.request('DELETE', `/api/v1/policies/${policyId}`, {
        headers: admin.headers,
      });
      expect(res.status).toBe(409);
      expect(res.json<{ detail: string }>().detail).toMatch(/is used by batch "API batch"/);
    });
  });
}
