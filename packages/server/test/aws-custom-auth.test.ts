import { createPublicKey, verify } from 'node:crypto';
import { hubTokenResponseSchema, type EnrolResponse } from '@trustlink/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signingKeyNameOf, statementIdOf } from '../src/hubs/aws/aws-authorizer-fns.js';
import { backoffMs } from '../src/outbox/outbox-worker.js';
import { toPem } from '../src/pki/certificate-builder.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { createTestClock, type TestClock } from '../src/test-helpers/test-clock.js';
import { fakeAwsIot } from '../src/test-helpers/test-cloud-hubs.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import {
  devicePost,
  enrolBody,
  register,
  testDevice,
  tlsAs,
} from '../src/test-helpers/test-devices.js';
import { startTestServer, type TestServer } from '../src/test-helpers/test-server.js';

const AWS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  region: 'eu-west-1',
};
const ACCOUNT = '123456789012';
const fn = (name: string) => `arn:aws:lambda:${AWS.region}:${ACCOUNT}:function:${name}`;
const FN1 = fn('device-authorizer');
const FN2 = fn('device-authorizer-v2');
const FN3 = fn('not-deployed-yet');
/** The Lambda API path of a function's resource policy, as the SDK sends it. */
const policyPath = (arn: string) => `/2015-03-31/functions/${encodeURIComponent(arn)}/policy`;
/** Only the custom-authentication calls (device syncs run in the same outbox). */
const authCalls = (log: string[]) =>
  log.filter((l) => /^\S+ \/(authorizer|default-authorizer|2015-03-31)\b/.test(l));

for (const dialect of TEST_DIALECTS) {
  describe(`AWS IoT custom authentication on ${dialect}`, () => {
    let server: TestServer;
    let clock: TestClock;
    let admin: TestPrincipal;
    const aws = fakeAwsIot({ ...AWS, account: ACCOUNT });
    let hubId = '';
    let batchId = '';
    let name = '';

    const i = () => server.runtime.instance.id;
    const req = (method: string, url: string, body?: unknown) =>
      server.request(method, url, { headers: admin.headers, body });
    const drain = async () => {
      for (let n = 0; n < 20 && (await server.runtime.outboxWorker.runOnce()) > 0; n++);
    };
    const settings = (extra: Record<string, unknown>) => ({
      region: AWS.region,
      endpoint: '127.0.0.1',
      accessKeyId: AWS.accessKeyId,
      secretAccessKey: AWS.secretAccessKey,
      apiEndpoint: aws.url(),
      lambdaApiEndpoint: aws.url(),
      apiCaCertificate: aws.caPem,
      ...extra,
    });
    const putHub = (extra: Record<string, unknown>) => {
      // Each save's intent is then the newest of the hub's (created_at differs).
      clock.advance(10);
      return req('PUT', `/api/v1/hubs/${hubId}`, {
        name: 'AWS custom auth',
        type: 'aws-iot-core',
        settings: settings(extra),
      });
    };
    const status = async () => {
      server.runtime.hubs.status.invalidate(i());
      const s = await req('GET', '/api/v1/hubs/status');
      expect(s.status, s.text).toBe(200);
      return s
        .json<{ hubs: { id: string; ok: boolean; detail: string }[] }>()
        .hubs.find((h) => h.id === hubId)!;
    };
    const setupIntent = async () =>
      (await server.runtime.outbox.forSubject(i(), `hub:${hubId}`, 1))[0];
    const enrol = async () => {
      const d = await testDevice();
      await register(server, admin, batchId, d.deviceId);
      const r = await devicePost(server, '/device/v1/enrol', enrolBody(d), tlsAs(d));
      expect(r.status, r.text).toBe(200);
      const answer = r.json<EnrolResponse>();
      return { d, answer, certPem: toPem(Buffer.from(answer.certificate, 'base64url')) };
    };

    beforeAll(async () => {
      await aws.start();
      aws.state.functions.set(FN1, new Map());
      aws.state.functions.set(FN2, new Map());
      clock = createTestClock();
      server = await startTestServer(dialect, {
        now: clock.now,
        env: { TRUSTLINK_OUTBOUND_ALLOW_LIST: '127.0.0.1' },
      });
      // The test runs the outbox itself, step by step.
      await server.runtime.outboxWorker.stop();
      ({ admin } = await createTestUsers(server));
    });
    afterAll(async () => {
      await server?.close();
      await aws.stop();
    });

    it('fail/custom authentication needs a Lambda function ARN, and a well-formed one', async () => {
      const none = await req('POST', '/api/v1/hubs', {
        name: 'No function',
        type: 'aws-iot-core',
        settings: settings({ customAuthentication: true }),
      });
      expect(none.status, none.text).toBe(400);
      expect(none.text).toContain('customAuthorizerFunctionArn');
      expect(none.text).toContain('the Lambda function AWS IoT runs');
      const bad = await req('POST', '/api/v1/hubs', {
        name: 'Bad function',
        type: 'aws-iot-core',
        settings: settings({
          customAuthentication: true,
          customAuthorizerFunctionArn: 'arn:aws:iam::123456789012:role/x',
        }),
      });
      expect(bad.status, bad.text).toBe(400);
      expect(bad.text).toContain('must be a Lambda function ARN');
      const badName = await req('POST', '/api/v1/hubs', {
        name: 'Bad name',
        type: 'aws-iot-core',
        settings: settings({
          customAuthentication: true,
          customAuthorizerFunctionArn: FN1,
          customAuthorizerName: 'has spaces',
        }),
      });
      expect(badName.status, badName.text).toBe(400);
      expect((await req('GET', '/api/v1/hubs')).text).not.toContain('No function');
    });

    it('ok/saving the hub sets up the authorizer, its Lambda permission and the default, in order', async () => {
      const h = await req('POST', '/api/v1/hubs', {
        name: 'AWS custom auth',
        type: 'aws-iot-core',
        settings: settings({
          customAuthentication: true,
          customAuthorizerFunctionArn: FN1,
          customAuthorizerDefault: true,
        }),
      });
      expect(h.status, h.text).toBe(201);
      hubId = h.json<{ id: string }>().id;
      name = `trustlink-${hubId}`;
      expect(h.json<{ settings: Record<string, unknown> }>().settings).toMatchObject({
        customAuthorizerTokenKeyName: 'x-trustlink-token',
        customAuthorizerGrantInvoke: true,
        customAuthorizerTokenMinutes: 60,
      });
      // Committed with the hub, carried out by the outbox.
      expect(await setupIntent()).toMatchObject({ topic: 'hub.cloud-setup', status: 'pending' });
      const p = await req('POST', '/api/v1/policies', {
        name: 'Custom auth',
        connectionType: 'iot-hub',
        hubId,
        deviceCertificate: { lifetime: { value: 1, unit: 'years' } },
        issuingCertificate: { lifetime: { value: 5, unit: 'years' } },
      });
      expect(p.status, p.text).toBe(201);
      const b = await req('POST', '/api/v1/batches', {
        name: 'Custom auth',
        policyId: p.json<{ id: string }>().id,
      });
      expect(b.status, b.text).toBe(201);
      batchId = b.json<{ id: string }>().id;

      const from = aws.log.length;
      await drain();
      expect(authCalls(aws.log.slice(from))).toEqual([
        `GET /authorizer/${name} -> 404`,
        `POST /authorizer/${name} -> 200`,
        `POST ${policyPath(FN1)} -> 201`,
        'GET /default-authorizer -> 404',
        'POST /default-authorizer -> 200',
      ]);
      expect(await setupIntent()).toMatchObject({ status: 'done', lastError: null });

      // The authorizer as AWS holds it: our function, token key name, ACTIVE, signing on, and
      // the public half of a key in the key store (RSA, as AWS requires).
      const a = aws.state.authorizers.get(name)!;
      expect(a).toMatchObject({
        authorizerFunctionArn: FN1,
        tokenKeyName: 'x-trustlink-token',
        status: 'ACTIVE',
        signingDisabled: false,
      });
      const [keyName] = Object.keys(a.tokenSigningPublicKeys);
      const keyId = (await server.runtime.keystore.list(i(), 'jwt')).find(
        (k) => signingKeyNameOf(k.id) === keyName,
      )!.id;
      const rec = await server.runtime.keystore.publicKey(i(), keyId);
      expect(rec.algorithm).toBe('RSA-2048');
      expect(
        createPublicKey(a.tokenSigningPublicKeys[keyName!]!)
          .export({ type: 'spki', format: 'der' })
          .equals(rec.publicKeyDer),
      ).toBe(true);
      const create = aws.calls.find((c) => c.call === `POST /authorizer/${name}`)!;
      expect(create.body).toEqual({
        authorizerFunctionArn: FN1,
        tokenKeyName: 'x-trustlink-token',
        tokenSigningPublicKeys: a.tokenSigningPublicKeys,
        status: 'ACTIVE',
        signingDisabled: false,
      });
      // AWS IoT may invoke the function, for this authorizer only.
      expect(aws.state.functions.get(FN1)!.get(statementIdOf(name))).toEqual({
        action: 'lambda:InvokeFunction',
        principal: 'iot.amazonaws.com',
        sourceArn: `arn:aws:iot:${AWS.region}:${ACCOUNT}:authorizer/${name}`,
      });
      expect(aws.state.defaultAuthorizer).toBe(name);
      expect(aws.refused.filter((r) => r.status !== 404)).toEqual([]);

      // Idempotent: a second run only looks.
      const mark = aws.log.length;
      await server.runtime.hubs.cloud.setUpHub(i(), hubId);
      expect(aws.log.slice(mark)).toEqual([
        `GET /authorizer/${name} -> 200`,
        'GET /default-authorizer -> 200',
      ]);

      const st = await status();
      expect(st, st.detail).toMatchObject({ ok: true });
      expect(st.detail).toContain(`custom authorizer ${name} ACTIVE`);
    });

    it('ok/a device learns the authorizer at enrolment and gets a token AWS accepts', async () => {
      const { d, answer, certPem } = await enrol();
      expect(answer.hub).toMatchObject({
        type: 'aws-iot-core',
        clientId: d.deviceId,
        extra: {
          thingName: d.deviceId,
          authorizerName: name,
          tokenKeyName: 'x-trustlink-token',
          tokenPath: '/device/v1/hub-token',
          customAuthPort: '443',
          customAuthAlpn: 'mqtt',
        },
      });
      const r = await devicePost(server, '/device/v1/hub-token', '{}', tlsAs(d, certPem));
      expect(r.status, r.text).toBe(200);
      const t = hubTokenResponseSchema.parse(r.json());
      expect(t).toMatchObject({ authorizerName: name, tokenKeyName: 'x-trustlink-token' });
      expect(Date.parse(t.expiresAt) - clock.now().getTime()).toBeLessThanOrEqual(3600_000);
      expect(Date.parse(t.expiresAt) - clock.now().getTime()).toBeGreaterThan(3590_000);

      // AWS's own check before it invokes the Lambda: the signature over the token verifies
      // with the public key registered in the authorizer; a changed token does not.
      expect(aws.checkToken(name, t.token, t.signature)).toBe(true);
      expect(aws.checkToken(name, `${t.token}x`, t.signature)).toBe(false);
      const pem = Object.values(aws.state.authorizers.get(name)!.tokenSigningPublicKeys)[0]!;
      expect(verify('sha256', Buffer.from(t.token), pem, Buffer.from(t.signature, 'base64'))).toBe(
        true,
      );
      // The token is a JWT the Lambda can verify with the same key: RS256, sub = device ID.
      const [h64, c64, s64] = t.token.split('.');
      const header = JSON.parse(Buffer.from(h64!, 'base64url').toString());
      const claims = JSON.parse(Buffer.from(c64!, 'base64url').toString());
      expect(header).toEqual({
        alg: 'RS256',
        typ: 'JWT',
        kid: Object.keys(aws.state.authorizers.get(name)!.tokenSigningPublicKeys)[0],
      });
      expect(claims).toMatchObject({ sub: d.deviceId, aud: name, iss: i() });
      expect(claims.exp - claims.iat).toBe(3600);
      expect(
        verify('sha256', Buffer.from(`${h64}.${c64}`), pem, Buffer.from(s64!, 'base64url')),
      ).toBe(true);
      // The MQTT user name carries all three as AWS IoT reads them.
      const [client, query] = t.mqttUsername.split('?');
      const q = new URLSearchParams(query);
      expect(client).toBe(d.deviceId);
      expect(q.get('x-amz-customauthorizer-name')).toBe(name);
      expect(q.get('x-trustlink-token')).toBe(t.token);
      expect(q.get('x-amz-customauthorizer-signature')).toBe(t.signature);

      // Without a device credential there is no token.
      const anon = await server.deviceRequest('POST', '/device/v1/hub-token', { body: {} });
      expect(anon.status, anon.text).toBe(401);
    });

    it('ok/changing the function ARN updates the authorizer and moves the permission', async () => {
      const r = await putHub({
        customAuthentication: true,
        customAuthorizerFunctionArn: FN2,
        customAuthorizerDefault: true,
      });
      expect(r.status, r.text).toBe(200);
      const from = aws.log.length;
      await drain();
      const sid = statementIdOf(name);
      expect(authCalls(aws.log.slice(from))).toEqual([
        `GET /authorizer/${name} -> 200`,
        `PUT /authorizer/${name} -> 200`,
        `POST ${policyPath(FN2)} -> 201`,
        `DELETE ${policyPath(FN1)}/${sid} -> 204`,
        'GET /default-authorizer -> 200',
      ]);
      const put = aws.calls.filter((c) => c.call === `PUT /authorizer/${name}`).at(-1)!;
      expect(put.body).toMatchObject({ authorizerFunctionArn: FN2, status: 'ACTIVE' });
      expect(aws.state.authorizers.get(name)!.authorizerFunctionArn).toBe(FN2);
      expect(aws.state.functions.get(FN1)!.size).toBe(0);
      expect(aws.state.functions.get(FN2)!.get(sid)?.principal).toBe('iot.amazonaws.com');
    });

    it('fail/a function that does not exist: the set-up waits with "function not found", then catches up', async () => {
      const r = await putHub({
        customAuthentication: true,
        customAuthorizerFunctionArn: FN3,
        customAuthorizerDefault: true,
      });
      expect(r.status, r.text).toBe(200);
      await drain();
      const waiting = await setupIntent();
      expect(waiting).toMatchObject({ topic: 'hub.cloud-setup', status: 'pending' });
      expect(waiting!.lastError).toMatch(/^function not found: arn:aws:lambda:.*not-deployed-yet/);
      const st = await status();
      expect(st.ok).toBe(false);
      expect(st.detail).toContain('function not found');

      // The user deploys the function; the retry completes the set-up.
      aws.state.functions.set(FN3, new Map());
      clock.advance(backoffMs(1) + 1000);
      const from = aws.log.length;
      await drain();
      expect(authCalls(aws.log.slice(from))).toEqual([
        `GET /authorizer/${name} -> 200`,
        `POST ${policyPath(FN3)} -> 201`,
        `DELETE ${policyPath(FN2)}/${statementIdOf(name)} -> 204`,
        'GET /default-authorizer -> 200',
      ]);
      expect(await setupIntent()).toMatchObject({ status: 'done', lastError: null });
      expect((await status()).ok).toBe(true);
    });

    it('fail/a wrong key: the set-up and the status say the credentials were rejected', async () => {
      expect(
        (
          await putHub({
            customAuthentication: true,
            customAuthorizerFunctionArn: FN3,
            secretAccessKey: 'not-the-key',
          })
        ).status,
      ).toBe(200);
      await drain();
      expect((await setupIntent())!.lastError).toMatch(
        /^credentials rejected: InvalidSignatureException/,
      );
      const st = await status();
      expect(st.ok).toBe(false);
      expect(st.detail).toMatch(/^credentials rejected: /);
      // The right key again: the default is given up (customAuthorizerDefault now false).
      expect(
        (await putHub({ customAuthentication: true, customAuthorizerFunctionArn: FN3 })).status,
      ).toBe(200);
      const from = aws.log.length;
      await drain();
      expect(authCalls(aws.log.slice(from))).toEqual([
        `GET /authorizer/${name} -> 200`,
        'GET /default-authorizer -> 200',
        'DELETE /default-authorizer -> 200',
      ]);
      expect(aws.state.defaultAuthorizer).toBeUndefined();
      aws.refused.length = 0;
    });

    it('ok/renaming the authorizer creates the new one first, then takes the old one down', async () => {
      const old = name;
      const r = await putHub({
        customAuthentication: true,
        customAuthorizerFunctionArn: FN3,
        customAuthorizerName: 'fleet-devices',
      });
      expect(r.status, r.text).toBe(200);
      name = 'fleet-devices';
      const from = aws.log.length;
      await drain();
      expect(authCalls(aws.log.slice(from))).toEqual([
        'GET /authorizer/fleet-devices -> 404',
        'POST /authorizer/fleet-devices -> 200',
        `POST ${policyPath(FN3)} -> 201`,
        `GET /authorizer/${old} -> 200`,
        `PUT /authorizer/${old} -> 200`,
        `DELETE /authorizer/${old} -> 200`,
        `DELETE ${policyPath(FN3)}/${statementIdOf(old)} -> 204`,
      ]);
      expect([...aws.state.authorizers.keys()]).toEqual(['fleet-devices']);
      expect([...aws.state.functions.get(FN3)!.keys()]).toEqual([statementIdOf('fleet-devices')]);
      // The same signing key, registered in the new authorizer.
      expect(
        Object.keys(aws.state.authorizers.get('fleet-devices')!.tokenSigningPublicKeys),
      ).toEqual([signingKeyNameOf((await server.runtime.keystore.list(i(), 'jwt'))[0]!.id)]);
      // The one refusal was the look-up of the not-yet-existing new authorizer.
      expect(aws.refused).toEqual([
        expect.objectContaining({ call: 'GET /authorizer/fleet-devices', status: 404 }),
      ]);
      aws.refused.length = 0;
    });

    it('ok/turning custom authentication off deactivates and deletes the authorizer and its permission', async () => {
      const r = await putHub({
        customAuthentication: false,
        customAuthorizerFunctionArn: FN3,
        customAuthorizerName: name,
      });
      expect(r.status, r.text).toBe(200);
      const from = aws.log.length;
      await drain();
      expect(authCalls(aws.log.slice(from))).toEqual([
        `GET /authorizer/${name} -> 200`,
        `PUT /authorizer/${name} -> 200`,
        `DELETE /authorizer/${name} -> 200`,
        `DELETE ${policyPath(FN3)}/${statementIdOf(name)} -> 204`,
      ]);
      expect(aws.calls.filter((c) => c.call === `PUT /authorizer/${name}`).at(-1)!.body).toEqual({
        status: 'INACTIVE',
      });
      expect(aws.state.authorizers.has(name)).toBe(false);
      expect(aws.state.functions.get(FN3)!.size).toBe(0);

      // Devices enrolled now are told nothing of it, and get no token.
      const { d, answer, certPem } = await enrol();
      expect(answer.hub?.extra).not.toHaveProperty('authorizerName');
      const t = await devicePost(server, '/device/v1/hub-token', '{}', tlsAs(d, certPem));
      expect(t.status, t.text).toBe(404);
      // Nothing is left to do.
      const mark = aws.log.length;
      await server.runtime.hubs.cloud.setUpHub(i(), hubId);
      expect(authCalls(aws.log.slice(mark))).toEqual([]);
      expect(aws.refused).toEqual([]);
    });

    it('fail/an authorizer of that name with signing off is not taken over: the set-up says why', async () => {
      aws.state.authorizers.set('legacy', {
        name: 'legacy',
        authorizerFunctionArn: FN1,
        tokenKeyName: undefined,
        tokenSigningPublicKeys: {},
        status: 'ACTIVE',
        signingDisabled: true,
      });
      const h = await req('POST', '/api/v1/hubs', {
        name: 'Legacy',
        type: 'aws-iot-core',
        settings: settings({
          customAuthentication: true,
          customAuthorizerFunctionArn: FN1,
          customAuthorizerName: 'legacy',
          customAuthorizerGrantInvoke: false,
        }),
      });
      expect(h.status, h.text).toBe(201);
      const id = h.json<{ id: string }>().id;
      const from = aws.log.length;
      await drain();
      // Looked at, never changed.
      expect(authCalls(aws.log.slice(from))).toEqual(['GET /authorizer/legacy -> 200']);
      const [setup] = await server.runtime.outbox.forSubject(i(), `hub:${id}`, 1);
      expect(setup).toMatchObject({ status: 'pending' });
      expect(setup!.lastError).toContain('exists in AWS IoT with token signing disabled');
      expect(aws.state.authorizers.get('legacy')).toMatchObject({ signingDisabled: true });
    });
  });
}
