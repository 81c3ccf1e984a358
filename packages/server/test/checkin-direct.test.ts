import { X509Certificate } from 'node:crypto';
import type { EnrolResponse } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPem } from '../src/pki/certificate-builder.js';
import { firmwareApi } from '../src/test-helpers/test-firmware.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  createPolicyAndBatch,
  devicePost,
  enrolBody,
  proofHeaders,
  register,
  testDevice,
  tlsAs,
  type TestDevice,
} from '../src/test-helpers/test-devices.js';
import {
  startTestServer,
  type RequestOptions,
  type TestResponse,
  type TestServer,
} from '../src/test-helpers/test-server.js';

/** Headers that differ between any two responses whatever answered them. */
const VARYING = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);

/** What a device can see of an answer, minus what differs between any two answers. */
function seen(r: TestResponse) {
  const headers = Object.fromEntries(Object.entries(r.headers).filter(([k]) => !VARYING.has(k)));
  let body: unknown = r.text;
  try {
    const parsed = r.json<Record<string, unknown>>();
    // A problem names its request: the same place, a different id.
    if (parsed && typeof parsed === 'object' && 'requestId' in parsed)
      body = { ...parsed, requestId: typeof parsed.requestId };
    else body = parsed;
  } catch {
    // not JSON (empty 304)
  }
  return { status: r.status, headers, body };
}

/**
 * `GET /device/v1/status` is answered before Fastify's pipeline (status-direct-route.ts); with
 * a query string the same request goes through the Fastify route. Both must answer alike in
 * every case a device meets, and a request the direct path must not take (a header the
 * route's schema refuses) is Fastify's, with nothing recorded first.
 */
for (const dialect of TEST_DIALECTS) {
  describe(`check-in answered before Fastify's pipeline on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    let batchId: string;
    let d: TestDevice;
    let certPem: string;

    beforeAll(async () => {
      server = await startTestServer(dialect);
      ({ admin, contributor } = await createTestUsers(server));
      ({ batchId } = await createPolicyAndBatch(server, admin, 'Direct'));
      d = await testDevice();
      await register(server, admin, batchId, d.deviceId);
      const r = await devicePost(server, '/device/v1/enrol', enrolBody(d), tlsAs(d));
      expect(r.status, r.text).toBe(200);
      certPem = toPem(Buffer.from(r.json<EnrolResponse>().certificate, 'base64url'));
    });
    afterAll(async () => server?.close());

    /** The same request on both paths: direct first, then through Fastify. */
    async function both(opts: RequestOptions) {
      const direct = await server.deviceRequest('GET', '/device/v1/status', opts);
      const routed = await server.deviceRequest('GET', '/device/v1/status?', opts);
      expect(seen(direct)).toEqual(seen(routed));
      expect(direct.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      return direct;
    }
    const checkIns = async () => {
      const m = await server.request('GET', '/metrics');
      const line = m.text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('trustlink_http_request_duration_seconds_count{') &&
            l.includes('listener="device"') &&
            l.includes('route="/device/v1/status"') &&
            l.includes('status="304"'),
        );
      return line ? Number(line.split(' ').pop()) : 0;
    };

    it('ok/200 and 304 over mutual TLS and a bearer handle, alike on both paths', async () => {
      const first = await both(tlsAs(d, certPem));
      expect(first.status).toBe(200);
      const etag = String(first.headers.etag);
      const before = await checkIns();
      const again = await both({ ...tlsAs(d, certPem), headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(again.text).toBe('');
      expect(await checkIns()).toBe(before + 2); // both paths counted in the metrics
      // The request id a caller gives is kept, as on every route.
      const given = await server.deviceRequest('GET', '/device/v1/status', {
        ...tlsAs(d, certPem),
        headers: { 'x-request-id': 'device-trace-1' },
      });
      expect(given.headers['x-request-id']).toBe('device-trace-1');
      // The firmware digest the device reports is taken on both paths.
      const digest = 'ab'.repeat(32);
      expect(
        (
          await both({
            ...tlsAs(d, certPem),
            headers: { 'if-none-match': etag, 'x-firmware-digest': digest },
          })
        ).status,
      ).toBe(304);
      await server.runtime.enrolment.recorder.flush();
      const dev = await server.runtime.enrolment.devices.find(
        server.runtime.instance.id,
        d.deviceId,
      );
      expect(dev?.firmwareDigest).toBe(digest);

      const body = '{}';
      const s = await devicePost(server, '/device/v1/session', body, {
        headers: await proofHeaders(server, d, 'session', '/device/v1/session', body),
      });
      const bearer = { authorization: `Bearer ${s.json<{ token: string }>().token}` };
      expect((await both({ headers: bearer })).status).toBe(200);
      expect((await both({ headers: { ...bearer, 'if-none-match': etag } })).status).toBe(304);
    });

    it('fail/refusals are the same bare problems, audited with their reason', async () => {
      expect((await both({})).status).toBe(401);
      expect(
        (await both({ headers: { authorization: 'Bearer tld_nope-nope-nope-nope' } })).status,
      ).toBe(401);
      // The bootstrap certificate is not a device certificate.
      expect((await both(tlsAs(d))).status).toBe(401);
      const reasons = (await server.runtime.audit.recent(server.runtime.instance.id, 50))
        .filter((e) => e.action === 'device.check-in' && e.result === 'denied')
        .map((e) => (e.details as { reason: string }).reason);
      expect(reasons).toEqual(
        expect.arrayContaining([
          'no client certificate and no bearer token',
          'unknown, expired or ended session token',
          'the client certificate (bootstrap) is not a device certificate of this instance',
        ]),
      );
    });

    it('fail/a header the schema refuses is answered by Fastify alone: 400, nothing audited', async () => {
      const count = async () =>
        (await server.runtime.audit.recent(server.runtime.instance.id, 200)).length;
      const n = await count();
      const long = await both({
        ...tlsAs(d, certPem),
        headers: { 'if-none-match': 'x'.repeat(300) },
      });
      expect(long.status).toBe(400);
      const bad = await both({ ...tlsAs(d, certPem), headers: { 'x-firmware-digest': 'nope' } });
      expect(bad.status).toBe(400);
      expect(await count()).toBe(n);
    });

    it('ok/the update waiting for the device is in its check-in, read with its state, until installed', async () => {
      const fw = firmwareApi(server, admin);
      const image = Buffer.alloc(4_096, 3);
      const firmware = await fw.upload(
        'name=direct&version=1.0.0&securityVersion=1&format=raw&input=binary',
        image,
      );
      const key = await fw.signingKey('direct key', 'P-256');
      expect((await fw.assign(batchId, firmware.id, key.id)).status).toBe(200);
      const body = '{}';
      const s = await devicePost(server, '/device/v1/session', body, {
        headers: await proofHeaders(server, d, 'session', '/device/v1/session', body),
      });
      const bearer = { authorization: `Bearer ${s.json<{ token: string }>().token}` };

      type Status = { update?: { id: string; manifestUrl: string } };
      const viaTls = await both(tlsAs(d, certPem));
      const viaBearer = await both({ headers: bearer });
      const update = viaTls.json<Status>().update;
      expect(update?.manifestUrl).toBe(`/device/v1/updates/${update?.id}/manifest`);
      expect(viaBearer.json<Status>().update).toEqual(update);
      expect(viaBearer.headers.etag).toBe(viaTls.headers.etag);
      // The ETag covers the update: the answer before it was assigned no longer matches.
      const report = await server.deviceRequest('POST', `/device/v1/updates/${update!.id}/report`, {
        ...tlsAs(d, certPem),
        body: { status: 'installed', at: new Date().toISOString() },
      });
      expect(report.status, report.text).toBeLessThan(300);
      const after = await both(tlsAs(d, certPem));
      expect(after.json<Status>().update).toBeUndefined();
      expect(after.headers.etag).not.toBe(viaTls.headers.etag);
      expect((await both({ headers: bearer })).json<Status>().update).toBeUndefined();
    });

    it('ok/a device certificate is judged once per presented chain, the whole chain being the key', async () => {
      const auth = server.runtime.enrolment.auth;
      expect((await both(tlsAs(d, certPem))).status).toBe(200);
      const judged = auth.judgedSize();
      expect(judged).toBeGreaterThan(0);
      // The same certificate again (a new connection or a kept-alive one): nothing new judged.
      expect((await both(tlsAs(d, certPem))).status).toBe(200);
      expect(auth.judgedSize()).toBe(judged);
      // With its issuing CA sent along, the chain differs: judged on its own, and remembered.
      const issuer = new X509Certificate(certPem).issuer;
      const ca = (
        await server.runtime.pkiServices.caRepo.list(server.runtime.instance.id, 'issuing')
      ).find((c) => new X509Certificate(c.der).subject === issuer)!;
      const withCa = tlsAs(d, certPem + toPem(ca.der));
      expect((await both(withCa)).status).toBe(200);
      expect(auth.judgedSize()).toBe(judged + 1);
      expect((await both(withCa)).status).toBe(200);
      expect(auth.judgedSize()).toBe(judged + 1);
    });

    it('fail/a revoked device gets the same 403 on both paths', async () => {
      const res = await server.request('POST', `/api/v1/devices/${d.deviceId}/revoke`, {
        headers: contributor.headers,
        body: { reason: 'keyCompromise' },
      });
      expect(res.status, res.text).toBe(200);
      // Revocation closed the device's kept-alive connections; let the client's pool hear of it
      // before asking again, or it may send on a connection the server has just cut.
      await new Promise((r) => setTimeout(r, 200));
      // The chain is remembered as judged; the device's state is still read on every request.
      const r = await both(tlsAs(d, certPem));
      expect(r.status).toBe(403);
      expect(r.json()).toMatchObject({ type: 'https://trustlink.dev/problems/device-revoked' });
    });
  });
}
