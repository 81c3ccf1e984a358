import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {
  databaseTokenResponseSchema,
  ecdsaDerToRaw,
  type DatabaseTokenResponse,
  type EnrolResponse,
} from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactJwt, jwtSigningInput } from '../src/database-direct/database-direct-fns.js';
import type { Connection } from '../src/database-direct/database-direct-types.js';
import { toPem } from '../src/pki/certificate-builder.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { localEnv, runCli } from '../src/test-helpers/test-cli.js';
import { brokerCertificates } from '../src/test-helpers/test-mosquitto.js';
import {
  createDatabaseConnection,
  databaseDirectPolicyAndBatch,
  type DatabaseTarget,
  mariaTarget,
  pgTarget,
} from '../src/test-helpers/test-database-direct.js';
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
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

/**
 * PostgreSQL over TLS in front of the local server (which has TLS off): answers the client's
 * SSLRequest with 'S', terminates TLS with a certificate for localhost from its own CA, and
 * passes the decrypted protocol to 127.0.0.1:5432. What the driver sees is a TLS-only server.
 */
async function pgTlsFront() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-pgtls-'));
  const certs = brokerCertificates(dir);
  const context = tls.createSecureContext({
    cert: readFileSync(certs.cert),
    key: readFileSync(certs.key),
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('error', () => undefined);
    client.once('data', (first) => {
      // SSLRequest: length 8, code 80877103. Anything else is refused: this server is TLS only.
      if (first.length !== 8 || first.readUInt32BE(4) !== 80877103) return client.destroy();
      client.write('S');
      const secure = new tls.TLSSocket(client, { isServer: true, secureContext: context });
      secure.on('error', () => client.destroy());
      const upstream = net.connect(5432, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      secure.pipe(upstream).pipe(secure);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    caPem: certs.caPem,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

for (const dialect of TEST_DIALECTS) {
  describe(`database direct on ${dialect}`, () => {
    let server: TestServer;
    let admin: TestPrincipal;
    let contributor: TestPrincipal;
    let pgDb: DatabaseTarget;
    let mariaDb: DatabaseTarget;
    let pgConn: Connection;
    let mariaConn: Connection;
    let pgBatch: string;
    let mariaBatch: string;

    const api = (method: string, path: string, body?: unknown, who = admin) =>
      server.request(method, path, {
        headers: who.headers,
        ...(body === undefined ? {} : { body }),
      });

    const createConnection = (body: Record<string, unknown>) =>
      createDatabaseConnection(server, admin, body);

    /** A database-direct policy on a connection and a batch following it. */
    const policyAndBatch = (name: string, connectionId: string) =>
      databaseDirectPolicyAndBatch(server, admin, name, connectionId);

    const enrol = async (d: TestDevice, batchId: string) => {
      await register(server, admin, batchId, d.deviceId);
      const r = await devicePost(server, '/device/v1/enrol', enrolBody(d), tlsAs(d));
      expect(r.status, r.text).toBe(200);
      const answer = r.json<EnrolResponse>();
      return { answer, certPem: toPem(Buffer.from(answer.certificate, 'base64url')) };
    };

    const tokenFor = async (d: TestDevice, certPem: string) => {
      const r = await devicePost(server, '/device/v1/database-token', '{}', tlsAs(d, certPem));
      expect(r.status, r.text).toBe(200);
      return databaseTokenResponseSchema.parse(r.json());
    };

    const write = (token: string, collection: string, doc: unknown) =>
      server.deviceRequest('POST', `/device/v1/data/${collection}`, {
        body: doc,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });

    /** A token signed in the server's key store with chosen claims (what a bug could issue). */
    const signedToken = async (
      keyId: string,
      claims: { sub: string; aud: string; exp: number; iss?: string },
    ) => {
      const t = Math.floor(Date.now() / 1000);
      const input = jwtSigningInput(keyId, {
        iss: claims.iss ?? server.runtime.instance.id,
        sub: claims.sub,
        aud: claims.aud,
        iat: t - 3600,
        nbf: t - 3600,
        exp: claims.exp,
        jti: randomUUID(),
      });
      const der = await server.runtime.keystore.sign(
        server.runtime.instance.id,
        keyId,
        Buffer.from(input),
        'ecdsa-sha256',
      );
      return compactJwt(input, ecdsaDerToRaw(der, 'P-256'));
    };

    beforeAll(async () => {
      [pgDb, mariaDb] = await Promise.all([pgTarget(), mariaTarget()]);
      // Tests allow-list the loopback databases they start (the default refuses them).
      server = await startTestServer(dialect, {
        env: { TRUSTLINK_OUTBOUND_ALLOW_LIST: '127.0.0.1' },
      });
      ({ admin, contributor } = await createTestUsers(server));
      pgConn = await createConnection({
        name: 'Readings PG',
        type: 'postgresql',
        url: 'postgresql://127.0.0.1:5432',
        database: pgDb.name,
        dataSource: 'plant-1',
        tls: false,
        username: pgDb.user,
        password: pgDb.password,
      });
      mariaConn = await createConnection({
        name: 'Readings MariaDB',
        type: 'mariadb',
        url: 'mariadb://127.0.0.1:3306',
        database: mariaDb.name,
        tls: false,
        username: mariaDb.user,
        password: mariaDb.password,
      });
      ({ batchId: pgBatch } = await policyAndBatch('DD PG', pgConn.id));
      ({ batchId: mariaBatch } = await policyAndBatch('DD MariaDB', mariaConn.id));
    });
    afterAll(async () => {
      await server?.close();
      await Promise.all([pgDb?.drop(), mariaDb?.drop()]);
    });

    it('ok/an enrolled device gets a JWT and writes a record into PostgreSQL', async () => {
      const d = await testDevice();
      const { answer, certPem } = await enrol(d, pgBatch);
      expect(answer.database).toEqual({
        connectionId: pgConn.id,
        type: 'postgresql',
        url: `${server.deviceUrl}/device/v1/data`,
        database: pgDb.name,
        dataSource: 'plant-1',
        caCertificates: answer.trustAnchors,
      });
      expect(answer.hub).toBeUndefined();

      const tok = await tokenFor(d, certPem);
      expect(tok.connection).toEqual(answer.database);
      const [h, p] = tok.token
        .split('.')
        .slice(0, 2)
        .map((x) => JSON.parse(Buffer.from(x, 'base64url').toString()));
      expect(h).toEqual({ alg: 'ES256', typ: 'JWT', kid: pgConn.keyId });
      expect(p).toMatchObject({ sub: d.deviceId, aud: pgConn.id, iss: server.runtime.instance.id });
      expect(p.exp - p.iat).toBe(600); // the policy's 10 minutes
      expect(Date.parse(tok.expiresAt)).toBe(p.exp * 1000);

      // No device certificate on the data endpoint: the token alone.
      const w = await write(tok.token, 'readings', { temperature: 21.5, unit: 'C', tags: ['a'] });
      expect(w.status, w.text).toBe(201);
      expect(w.json()).toMatchObject({ collection: 'readings', deviceId: d.deviceId });
      const rows = await pgDb.rows('readings');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        device_id: d.deviceId,
        document: { temperature: 21.5, unit: 'C', tags: ['a'] },
      });
      expect(Math.abs(new Date(rows[0]!.received_at).getTime() - Date.now())).toBeLessThan(120_000);

      // The token verifies with the published JWKS, as a database service would check it.
      const jwks = await server.deviceRequest('GET', pgConn.jwksPath);
      expect(jwks.status).toBe(200);
      const { createPublicKey, verify } = await import('node:crypto');
      const jwk = jwks.json<{ keys: Record<string, string>[] }>().keys[0]!;
      expect(jwk.kid).toBe(pgConn.keyId);
      const [hh, pp, ss] = tok.token.split('.');
      const key = createPublicKey({ key: jwk as never, format: 'jwk' });
      expect(
        verify(
          'sha256',
          Buffer.from(`${hh}.${pp}`),
          { key, dsaEncoding: 'ieee-p1363' },
          Buffer.from(ss!, 'base64url'),
        ),
      ).toBe(true);
    });

    it('ok/a device writes into MariaDB with a token fetched over a bearer session', async () => {
      const d = await testDevice();
      const { answer } = await enrol(d, mariaBatch);
      expect(answer.database).toMatchObject({ connectionId: mariaConn.id, type: 'mariadb' });
      const body = '{}';
      const s = await devicePost(server, '/device/v1/session', body, {
        headers: await proofHeaders(server, d, 'session', '/device/v1/session', body),
      });
      expect(s.status, s.text).toBe(200);
      const r = await server.deviceRequest('POST', '/device/v1/database-token', {
        body: {},
        headers: { authorization: `Bearer ${s.json<{ token: string }>().token}` },
      });
      expect(r.status, r.text).toBe(200);
      const tok = r.json<DatabaseTokenResponse>();
      for (const n of [1, 2]) {
        const w = await write(tok.token, 'telemetry', { n, ok: true });
        expect(w.status, w.text).toBe(201);
      }
      const rows = await mariaDb.rows('telemetry');
      expect(rows.map((x) => x.device_id)).toEqual([d.deviceId, d.deviceId]);
      const docs = rows.map((x) =>
        typeof x.document === 'string' ? JSON.parse(x.document) : x.document,
      );
      expect(docs).toEqual([
        { n: 1, ok: true },
        { n: 2, ok: true },
      ]);
    });

    it('ok/writes arriving together on a new collection all land, on both databases', async () => {
      for (const [batch, db] of [
        [pgBatch, pgDb],
        [mariaBatch, mariaDb],
      ] as const) {
        const d = await testDevice();
        const { certPem } = await enrol(d, batch);
        const { token } = await tokenFor(d, certPem);
        const collection = `burst_${randomBytes(3).toString('hex')}`;
        const answers = await Promise.all(
          Array.from({ length: 8 }, (_, n) => write(token, collection, { n })),
        );
        expect(
          answers.map((a) => a.status),
          server.warnings().join('\n'),
        ).toEqual(Array(8).fill(201));
        expect((await db.rows(collection)).length).toBe(8);
      }
    });

    it('fail/expired, forged, other-connection and revoked tokens are refused', async () => {
      const d = await testDevice();
      const { certPem } = await enrol(d, pgBatch);
      const good = (await tokenFor(d, certPem)).token;
      const t = Math.floor(Date.now() / 1000);
      // The token works before anything below is refused.
      expect((await write(good, 'readings', { first: true })).status).toBe(201);
      const before = (await pgDb.rows('readings')).length;

      const expired = await signedToken(pgConn.keyId, {
        sub: d.deviceId,
        aud: pgConn.id,
        exp: t - 300,
      });
      expect((await write(expired, 'readings', { x: 1 })).status).toBe(401);

      // Same claims and kid, signed by a key that is not the connection's.
      const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const input = good.split('.').slice(0, 2).join('.');
      const forged = compactJwt(
        input,
        sign('sha256', Buffer.from(input), { key: forger.privateKey, dsaEncoding: 'ieee-p1363' }),
      );
      expect((await write(forged, 'readings', { x: 1 })).status).toBe(401);

      // Signed by the MariaDB connection's key but naming the PostgreSQL connection.
      const crossKey = await signedToken(mariaConn.keyId, {
        sub: d.deviceId,
        aud: pgConn.id,
        exp: t + 300,
      });
      expect((await write(crossKey, 'readings', { x: 1 })).status).toBe(401);
      // A valid token of another connection, which the device's policy does not use.
      const otherConn = await signedToken(mariaConn.keyId, {
        sub: d.deviceId,
        aud: mariaConn.id,
        exp: t + 300,
      });
      expect((await write(otherConn, 'readings', { x: 1 })).status).toBe(401);
      // Another instance's issuer.
      const otherIss = await signedToken(pgConn.keyId, {
        sub: d.deviceId,
        aud: pgConn.id,
        exp: t + 300,
        iss: randomUUID(),
      });
      expect((await write(otherIss, 'readings', { x: 1 })).status).toBe(401);
      // No token, or a device session token in its place.
      expect(
        (await server.deviceRequest('POST', '/device/v1/data/readings', { body: { x: 1 } })).status,
      ).toBe(401);

      // Bad input with a good token: 400, nothing written.
      expect((await write(good, 'Bad-Name', { x: 1 })).status).toBe(400);
      expect((await write(good, 'readings; drop table x', { x: 1 })).status).toBe(400);
      expect((await write(good, 'readings', [1, 2])).status).toBe(400);
      expect(
        (await write(good, 'readings', { s: 'x'.repeat(40_000) })).status,
      ).toBeGreaterThanOrEqual(400);

      const rev = await api('POST', `/api/v1/devices/${d.deviceId}/revoke`, {
        reason: 'keyCompromise',
      });
      expect(rev.status, rev.text).toBe(200);
      const w = await write(good, 'readings', { x: 1 });
      expect(w.status).toBe(403);
      expect(w.json()).toMatchObject({ type: expect.stringContaining('device-revoked') });
      expect(
        (await devicePost(server, '/device/v1/database-token', '{}', tlsAs(d, certPem))).status,
      ).toBe(403);
      expect((await pgDb.rows('readings')).length).toBe(before);

      const audit = await api('GET', '/api/v1/audit?action=device.database-write&limit=100');
      expect(audit.status).toBe(200);
      const reasons = audit
        .json<{ entries: { details: { reason?: string } }[] }>()
        .entries.map((e) => e.details.reason);
      expect(reasons).toEqual(
        expect.arrayContaining([
          'JWT expired',
          'JWT signature does not verify',
          'device is revoked',
        ]),
      );
    });

    it('fail/TLS is never dropped: a database without TLS answers 503, nothing is written in clear', async () => {
      for (const [type, url, db] of [
        ['postgresql', 'postgresql://127.0.0.1:5432', pgDb],
        ['mariadb', 'mariadb://127.0.0.1:3306', mariaDb],
      ] as const) {
        const c = await createConnection({
          name: `TLS ${type}`,
          type,
          url,
          database: db.name,
          username: db.user,
          password: db.password,
        });
        expect(c.tls).toBe(true);
        const { batchId } = await policyAndBatch(`TLS ${type}`, c.id);
        const d = await testDevice();
        const { certPem } = await enrol(d, batchId);
        const w = await write((await tokenFor(d, certPem)).token, 'tls_only', { secret: 1 });
        expect(w.status, w.text).toBe(503);
        expect(w.json<{ detail: string }>().detail).toMatch(
          new RegExp(`the ${type} database of connection "TLS ${type}" did not take the record`),
        );
      }
      await expect(pgDb.rows('tls_only')).rejects.toThrow(/does not exist/);
      await expect(mariaDb.rows('tls_only')).rejects.toThrow(/doesn't exist/);
    });

    it('ok/verified TLS with the connection CA; another CA or the system roots are refused', async () => {
      const front = await pgTlsFront();
      const otherDir = mkdtempSync(path.join(os.tmpdir(), 'trustlink-ca-'));
      const otherCa = brokerCertificates(otherDir);
      try {
        const cases = [
          { name: 'TLS own CA', ca: front.caPem, status: 201 },
          { name: 'TLS other CA', ca: otherCa.caPem, status: 503 },
          { name: 'TLS system roots', ca: null, status: 503 },
        ];
        for (const c of cases) {
          const conn = await createConnection({
            name: c.name,
            type: 'postgresql',
            url: `postgresql://localhost:${front.port}`,
            database: pgDb.name,
            caCertificate: c.ca,
            username: pgDb.user,
            password: pgDb.password,
          });
          const { batchId } = await policyAndBatch(c.name, conn.id);
          const d = await testDevice();
          const { certPem } = await enrol(d, batchId);
          const w = await write((await tokenFor(d, certPem)).token, 'over_tls', { via: c.name });
          expect(w.status, `${c.name}: ${w.text}`).toBe(c.status);
        }
        const rows = await pgDb.rows('over_tls');
        expect(rows.map((r) => r.document)).toEqual([{ via: 'TLS own CA' }]);
      } finally {
        await front.close();
        rmSync(otherDir, { recursive: true, force: true });
      }
    });

    it('fail/a policy cannot name a connection that does not exist', async () => {
      const r = await api('POST', '/api/v1/policies', {
        name: 'Nowhere',
        connectionType: 'database-direct',
        databaseConnectionId: randomUUID(),
        jwtLifetime: { value: 10, unit: 'minutes' },
        deviceCertificate: { lifetime: { value: 1, unit: 'years' } },
        issuingCertificate: { lifetime: { value: 5, unit: 'years' } },
      });
      expect(r.status).toBe(400);
      expect(r.text).toMatch(/unknown database direct connection/);
    });

    it('fail/a device of an IoT hub policy has no database token (404)', async () => {
      const d = await testDevice();
      const { batchId } = await createPolicyAndBatch(server, admin, 'Hub policy');
      const { answer, certPem } = await enrol(d, batchId);
      expect(answer.database).toBeUndefined();
      const r = await devicePost(server, '/device/v1/database-token', '{}', tlsAs(d, certPem));
      expect(r.status).toBe(404);
      expect(r.json()).toMatchObject({ type: expect.stringContaining('not-found') });
      // And without any device credential: 401.
      expect((await devicePost(server, '/device/v1/database-token', '{}')).status).toBe(401);
    });

    it('ok/credentials are write-only; contributors read, administrators write', async () => {
      const secrets = [pgDb.password, mariaDb.password, pgDb.user, mariaDb.user];
      const reads = [
        await api('GET', '/api/v1/database-connections', undefined, contributor),
        await api('GET', `/api/v1/database-connections/${pgConn.id}`, undefined, contributor),
        await api(
          'GET',
          `/api/v1/database-connections/${pgConn.id}/public-key`,
          undefined,
          contributor,
        ),
        await api('GET', `/api/v1/database-connections/${pgConn.id}/jwks`, undefined, contributor),
        await server.deviceRequest('GET', pgConn.jwksPath),
      ];
      for (const r of reads) {
        expect(r.status, r.text).toBe(200);
        for (const s of secrets) expect(r.text).not.toContain(s);
      }
      expect(reads[1]!.json()).toMatchObject({
        secrets: { username: { set: true }, password: { set: true } },
      });
      expect(reads[2]!.text).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      const input = {
        name: 'Readings PG',
        type: 'postgresql',
        url: 'postgresql://127.0.0.1:5432',
        database: pgDb.name,
        dataSource: 'plant-1',
        tls: false,
      };
      expect(
        (await api('POST', '/api/v1/database-connections', { ...input, name: 'x' }, contributor))
          .status,
      ).toBe(403);
      expect(
        (await api('PUT', `/api/v1/database-connections/${pgConn.id}`, input, contributor)).status,
      ).toBe(403);
      expect(
        (await api('DELETE', `/api/v1/database-connections/${pgConn.id}`, undefined, contributor))
          .status,
      ).toBe(403);

      // An update without credentials keeps them (the device still writes afterwards).
      const u = await api('PUT', `/api/v1/database-connections/${pgConn.id}`, {
        ...input,
        password: '********',
      });
      expect(u.status, u.text).toBe(200);
      for (const s of secrets) expect(u.text).not.toContain(s);
      const d = await testDevice();
      const { certPem } = await enrol(d, pgBatch);
      expect(
        (await write((await tokenFor(d, certPem)).token, 'readings', { after: 'update' })).status,
      ).toBe(201);

      // Missing credentials and a taken name are refused.
      const missing = await api('POST', '/api/v1/database-connections', {
        ...input,
        name: 'No creds',
      });
      expect(missing.status).toBe(400);
      expect(missing.text).toMatch(/missing username, password/);
      const taken = await api('POST', '/api/v1/database-connections', {
        ...input,
        username: 'u1',
        password: 'p1',
      });
      expect(taken.status).toBe(409);

      const audit = await api('GET', '/api/v1/audit?action=database-connection.create&limit=100');
      const text = audit.text;
      expect(text).toContain(pgConn.id);
      for (const s of secrets) expect(text).not.toContain(s);
    });

    it('fail/URLs to private addresses not allow-listed, or to the platform database, are refused', async () => {
      const base = {
        type: 'postgresql',
        database: 'elsewhere',
        tls: false,
        username: 'u',
        password: 'p',
      };
      const tried: string[] = [];
      const refused = async (name: string, url: string, body: Record<string, unknown> = {}) => {
        tried.push(name);
        const r = await api('POST', '/api/v1/database-connections', {
          ...base,
          name,
          url,
          ...body,
        });
        expect(r.status, r.text).toBe(400);
        return r.json<{ type: string; detail: string }>();
      };
      expect((await refused('private', 'postgresql://10.1.2.3:5432')).detail).toMatch(
        /private address; the operator must allow-list it/,
      );
      expect((await refused('metadata', 'postgresql://169.254.169.254')).type).toMatch(
        /outbound-address-refused/,
      );
      // A name is resolved: localhost is 127.0.0.1 here, allow-listed for this server; ::1 is not.
      expect((await refused('v6 loopback', 'postgresql://[::1]:5432')).type).toMatch(
        /outbound-address-refused/,
      );
      expect(
        (await refused('credentials in URL', 'postgresql://u:p@db.example.com')).detail,
      ).toMatch(/credentials/);
      expect((await refused('wrong scheme', 'mysql://127.0.0.1')).detail).toMatch(
        /postgresql:\/\//,
      );
      if (dialect === 'postgres') {
        const own = new URL(server.config.databaseUrl!);
        const ownDb = own.pathname.slice(1);
        expect(
          (
            await refused('own database', 'postgresql://localhost:5432', {
              database: ownDb,
              username: 'x',
            })
          ).detail,
        ).toMatch(/platform's own database/);
        expect(
          (
            await refused('own login', 'postgresql://127.0.0.1:5432', {
              database: 'other',
              username: own.username,
            })
          ).detail,
        ).toMatch(/platform's own login/);
      }
      // Nothing refused was stored.
      const list = await api('GET', '/api/v1/database-connections');
      const names = list.json<{ items: Connection[] }>().items.map((c) => c.name);
      expect(names).toContain('Readings PG');
      for (const n of tried) expect(names).not.toContain(n);
    });

    it('ok/CLI lists and creates; a connection in use is not deleted, an unused one is', async () => {
      const env = localEnv(server);
      const list = await runCli(['database-direct', 'list', '--json'], env);
      expect(list.code, list.stderr).toBe(0);
      expect(JSON.parse(list.stdout).map((c: Connection) => c.name)).toContain('Readings PG');
      expect(list.stdout).not.toContain(pgDb.password);

      const made = await runCli(
        [
          'database-direct',
          'create',
          '--name',
          'CLI made',
          '--type',
          'mariadb',
          '--url',
          'mariadb://127.0.0.1:3306',
          '--database',
          mariaDb.name,
          '--no-tls',
          '--username',
          mariaDb.user,
          '--password-stdin',
          '--json',
        ],
        { ...env, TRUSTLINK_OUTBOUND_ALLOW_LIST: '127.0.0.1' },
        `${mariaDb.password}\n`,
      );
      expect(made.code, made.stderr).toBe(0);
      const created = JSON.parse(made.stdout) as Connection;
      expect(created).toMatchObject({ name: 'CLI made', secrets: { password: { set: true } } });

      const refused = await runCli(
        [
          'database-direct',
          'create',
          '--name',
          'bad',
          '--type',
          'postgresql',
          '--url',
          'postgresql://10.0.0.9',
          '--database',
          'x',
          '--username',
          'u',
          '--password-stdin',
        ],
        env,
        'p',
      );
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/10\.0\.0\.9/);

      const inUse = await api('DELETE', `/api/v1/database-connections/${pgConn.id}`);
      expect(inUse.status).toBe(409);
      expect(inUse.json<{ detail: string }>().detail).toMatch(/used by policy "DD PG"/);
      const del = await runCli(['database-direct', 'delete', 'CLI made'], env);
      expect(del.code, del.stderr).toBe(0);
      expect((await api('GET', `/api/v1/database-connections/${created.id}`)).status).toBe(404);
      expect((await server.deviceRequest('GET', created.jwksPath)).status).toBe(404);
      const keys = await server.runtime.keystore.list(server.runtime.instance.id, 'jwt');
      expect(keys.map((k) => k.id)).not.toContain(created.keyId);
      expect(keys.map((k) => k.id)).toContain(pgConn.keyId);
    });
  });
}
