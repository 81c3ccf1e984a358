import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

/** The certificate chain a TLS server presents, as PEM, leaf first. */
function presentedChain(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect(
      { host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false },
      () => {
        const pems: string[] = [];
        let c = sock.getPeerCertificate(true);
        const seen = new Set<string>();
        while (c && c.raw && !seen.has(c.fingerprint256)) {
          seen.add(c.fingerprint256);
          pems.push(
            `-----BEGIN CERTIFICATE-----\n${c.raw.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`,
          );
          c = c.issuerCertificate;
        }
        sock.end();
        resolve(pems.join(''));
      },
    );
    sock.on('error', reject);
  });
}

for (const dialect of TEST_DIALECTS) {
  describe(`trustlink serve on ${dialect}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(dialect);
    });
    afterAll(async () => {
      await server?.close();
    });

    it('ok/readyz answers 200 over TLS, with both checks', async () => {
      const res = await server.request('GET', '/readyz');
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({
        status: 'ready',
        checks: { database: { ok: true }, keystore: { ok: true } },
      });
      expect(res.headers['x-request-id']).toBeTruthy();
    });

    it('ok/healthz on both ports', async () => {
      expect((await server.request('GET', '/healthz')).status).toBe(200);
      expect((await server.deviceRequest('GET', '/healthz')).status).toBe(200);
    });

    it('ok/openssl verifies the 8443 and 8444 chains against the printed root', async () => {
      const rootFile = path.join(server.home, 'root.pem');
      writeFileSync(rootFile, server.rootPem);
      for (const url of [server.managementUrl, server.deviceUrl]) {
        const chain = await presentedChain(Number(new URL(url).port));
        const [leaf, ...rest] = chain.split(/(?=-----BEGIN CERTIFICATE-----)/);
        const leafFile = path.join(server.home, 'leaf.pem');
        const untrusted = path.join(server.home, 'untrusted.pem');
        writeFileSync(leafFile, leaf!);
        writeFileSync(untrusted, rest.join('') || server.rootPem);
        const out = execFileSync('openssl', [
          'verify',
          '-CAfile',
          rootFile,
          '-untrusted',
          untrusted,
          '-purpose',
          'sslserver',
          '-verify_hostname',
          'localhost',
          leafFile,
        ]).toString();
        expect(out.trim()).toBe(`${leafFile}: OK`);
      }
    });

    it('ok/metrics in Prometheus format', async () => {
      await server.request('GET', '/healthz');
      const res = await server.request('GET', '/metrics');
      expect(res.status).toBe(200);
      expect(String(res.headers['content-type'])).toMatch(/text\/plain/);
      expect(res.text).toMatch(
        /trustlink_http_request_duration_seconds_bucket\{.*route="\/healthz"/,
      );
      expect(res.text).toMatch(/trustlink_process_cpu_seconds_total/);
    });

    it('ok/OpenAPI document lists the routes', async () => {
      const res = await server.request('GET', '/api/docs/json');
      expect(res.status).toBe(200);
      const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>();
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toContain('/readyz');
    });

    it('fail/unknown route gives RFC 9457 problem details with the request id', async () => {
      const res = await server.request('GET', '/api/v1/nothing-here', {
        headers: { 'x-request-id': 'abc-123' },
      });
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.json()).toMatchObject({
        status: 404,
        title: 'Not Found',
        requestId: 'abc-123',
        instance: '/api/v1/nothing-here',
      });
    });

    it('fail/malformed JSON body gives a 4xx problem, not a 500', async () => {
      const res = await server.request('POST', '/readyz', {
        body: '{nope',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    });

    it('ok/a setup link is issued while the instance is unclaimed', () => {
      expect(server.setupUrl).toMatch(/\/setup#token=[A-Za-z0-9_-]{43}$/);
    });
  });

  describe(`restart on ${dialect}`, () => {
    it('ok/same root CA, same instance, same data', async () => {
      const first = await startTestServer(dialect);
      const rootBefore = first.rootPem;
      const instanceBefore = first.runtime.instance.id;
      await first.close({ keepData: true });
      const second = await startTestServer(dialect, { database: first.database, home: first.home });
      try {
        expect(second.rootPem).toBe(rootBefore);
        expect(second.runtime.instance.id).toBe(instanceBefore);
        expect(second.runtime.created).toBe(false);
        expect((await second.request('GET', '/readyz')).status).toBe(200);
      } finally {
        await second.close();
      }
    });
  });
}
