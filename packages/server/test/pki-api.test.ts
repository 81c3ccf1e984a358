import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPem } from '../src/pki/certificate-builder.js';
import { createTestUsers, type TestPrincipal } from '../src/test-helpers/test-auth.js';
import { deviceKey, makeCsr } from '../src/test-helpers/test-csr.js';
import { TEST_DIALECTS } from '../src/test-helpers/test-databases.js';
import { createSoftHsmToken, TEST_KEY_BACKENDS } from '../src/test-helpers/test-hsm.js';
import { openssl, opensslAsync, scratch } from '../src/test-helpers/test-openssl.js';
import {
  startTestServer,
  type TestServer,
  type TestResponse,
} from '../src/test-helpers/test-server.js';

interface CaView {
  id: string;
  kind: string;
  status: string;
  issuedCount: number;
  crlUrl: string | null;
}
interface DeviceView {
  id: string;
  serial: string;
  deviceId: string;
  status: string;
  issuerId: string;
}

for (const backend of TEST_KEY_BACKENDS)
  for (const dialect of TEST_DIALECTS) {
    describe(`PKI over the real ports, ${backend} key store, ${dialect}`, () => {
      let server: TestServer;
      let admin: TestPrincipal;
      let contributor: TestPrincipal;
      let ca: CaView;
      const files = scratch();
      const seen: TestResponse[] = [];
      const api = async (
        method: string,
        path: string,
        who: TestPrincipal | null,
        body?: unknown,
      ) => {
        const res = await server.request(method, path, { body, headers: who ? who.headers : {} });
        seen.push(res);
        return res;
      };

      beforeAll(async () => {
        const env: Record<string, string> = {};
        if (backend === 'pkcs11') {
          const token = createSoftHsmToken();
          Object.assign(env, {
            TRUSTLINK_KEYSTORE: 'pkcs11',
            TRUSTLINK_PKCS11_MODULE: token.module,
            TRUSTLINK_PKCS11_TOKEN_LABEL: token.tokenLabel,
            TRUSTLINK_PKCS11_PIN: token.pin,
          });
        }
        server = await startTestServer(dialect, { env });
        ({ admin, contributor } = await createTestUsers(server));
        files.file('root.pem', server.rootPem);
      });
      afterAll(async () => {
        await server?.close();
        files.remove();
      });

      it('fail/anonymous callers get 401, contributors cannot create issuing CAs', async () => {
        expect((await api('GET', '/api/v1/pki/certificates', null)).status).toBe(401);
        const res = await api('POST', '/api/v1/pki/issuing-cas', contributor, {
          name: 'x',
          lifetime: { value: 1, unit: 'years' },
        });
        expect(res.status).toBe(403);
      });

      it('ok/create an issuing CA; the listing shows root, TLS and issuing with status', async () => {
        const res = await api('POST', '/api/v1/pki/issuing-cas', admin, {
          name: 'Line 1',
          lifetime: { value: 2, unit: 'years' },
          keyType: 'P-256',
          autoRenew: true,
        });
        expect(res.status).toBe(201);
        ca = res.json<CaView>();
        expect(ca).toMatchObject({
          kind: 'issuing',
          status: 'not used',
          issuedCount: 0,
          keyType: 'P-256',
        });
        expect(ca.crlUrl).toBe(`${server.pkiUrl}/pki/${server.runtime.instance.id}/${ca.id}.crl`);
        const list = (await api('GET', '/api/v1/pki/certificates', contributor)).json<{
          certificates: CaView[];
        }>();
        const kinds = list.certificates.map((c) => `${c.kind}:${c.status}`).sort();
        expect(kinds).toEqual(['issuing:not used', 'root:valid', 'tls:valid']);
        const key = await server.runtime.keystore.publicKey(
          server.runtime.instance.id,
          (await server.runtime.pkiServices.caRepo.find(server.runtime.instance.id, ca.id))!.keyId,
        );
        expect(key.backend).toBe(backend);
        const pem = await api('GET', `/api/v1/pki/certificates/${ca.id}/pem`, contributor);
        expect(pem.headers['content-type']).toMatch(/application\/x-pem-file/);
        expect(pem.text.match(/BEGIN CERTIFICATE/g)?.length).toBe(2);
        files.file('issuing.pem', pem.text.split(/(?=-----BEGIN)/)[0]!);
      });

      it('fail/bad CSRs get a 4xx with a clear message and store nothing', async () => {
        const p256 = deviceKey('P-256');
        const p384 = deviceKey('P-384');
        const cases: [string, string, number, RegExp][] = [
          [
            'malformed',
            Buffer.from('garbage that is no CSR').toString('base64'),
            400,
            /malformed CSR/,
          ],
          [
            'bad signature',
            makeCsr(p256, { badSignature: true }).toString('base64'),
            400,
            /signature does not verify/,
          ],
          ['wrong key type', makeCsr(p384).toString('base64'), 400, /P-384 is not accepted/],
          ['not base64', '%%%', 400, /PEM or base64/],
          ['oversized', Buffer.alloc(9000, 0x30).toString('base64'), 413, /at most 8192/],
        ];
        for (const [name, csr, status, message] of cases) {
          const res = await api('POST', `/api/v1/pki/issuing-cas/${ca.id}/issue`, admin, {
            csr,
            lifetime: { value: 30, unit: 'days' },
          });
          expect(res.status, name).toBe(status);
          expect(res.headers['content-type'], name).toMatch(/problem\+json/);
          expect(res.json<{ detail: string }>().detail, name).toMatch(message);
        }
        const list = await api('GET', '/api/v1/pki/device-certificates', admin);
        expect(list.json<{ certificates: unknown[] }>().certificates).toEqual([]);
      });

      it('ok/issue from an openssl CSR; openssl verify OK; OCSP good, then revoked; the served CRL says revoked', async () => {
        const keyFile = files.file('dev.key', '');
        openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
        const csr = openssl(['req', '-new', '-key', keyFile, '-subj', '/']).out;
        const res = await api('POST', `/api/v1/pki/issuing-cas/${ca.id}/issue`, admin, {
          csr,
          lifetime: { value: 90, unit: 'days' },
        });
        expect(res.status).toBe(201);
        const dev = res.json<DeviceView>();
        const spki = createPublicKey(createPrivateKey(readFileSync(keyFile))).export({
          type: 'spki',
          format: 'der',
        });
        expect(dev.deviceId).toBe(createHash('sha256').update(spki).digest('hex'));
        const chain = (
          await api('GET', `/api/v1/pki/device-certificates/${dev.id}/pem`, contributor)
        ).text;
        const devFile = files.file('device.pem', chain.split(/(?=-----BEGIN)/)[0]!);
        const root = `${files.dir}/root.pem`;
        const issuing = `${files.dir}/issuing.pem`;
        expect(
          openssl(['verify', '-CAfile', root, '-untrusted', issuing, devFile]).out.trim(),
        ).toBe(`${devFile}: OK`);

        const ocspUrl = `${server.pkiUrl}/pki/${server.runtime.instance.id}/ocsp`;
        const ocsp = async () =>
          (
            await opensslAsync([
              'ocsp',
              '-issuer',
              issuing,
              '-cert',
              devFile,
              '-url',
              ocspUrl,
              '-CAfile',
              root,
            ])
          ).out;
        const good = await ocsp();
        expect(good).toMatch(/device.pem: good/);
        expect(good).toMatch(/Response verify OK/);

        const listed = (await api('GET', '/api/v1/pki/certificates?kind=issuing', admin)).json<{
          certificates: CaView[];
        }>();
        expect(listed.certificates[0]).toMatchObject({ status: 'valid', issuedCount: 1 });

        const rev = await api(
          'POST',
          `/api/v1/pki/device-certificates/${dev.id}/revoke`,
          contributor,
          {
            reason: 'keyCompromise',
          },
        );
        expect(rev.status).toBe(403);
        const revoked = await api(
          'POST',
          `/api/v1/pki/device-certificates/${dev.id}/revoke`,
          admin,
          {
            reason: 'keyCompromise',
          },
        );
        expect(revoked.status).toBe(200);
        expect(revoked.json<DeviceView>().status).toBe('revoked');

        // OCSP changes at once (the cached "good" answer was dropped in the same transaction).
        expect(await ocsp()).toMatch(/device.pem: revoked[\s\S]*Reason: keyCompromise/);

        // The CRL is rebuilt within seconds.
        const crlPath = `/pki/${server.runtime.instance.id}/${ca.id}.crl`;
        let crlPem = '';
        for (let i = 0; i < 50; i++) {
          const r = await server.pkiRequest('GET', `${crlPath}?format=pem`);
          crlPem = r.text;
          if (openssl(['crl', '-noout', '-text'], crlPem).out.includes(dev.serial.toUpperCase()))
            break;
          await new Promise((res) => setTimeout(res, 200));
        }
        const crlFile = files.file('served.crl.pem', crlPem);
        const v = openssl([
          'verify',
          '-crl_check',
          '-CAfile',
          root,
          '-untrusted',
          issuing,
          '-CRLfile',
          crlFile,
          devFile,
        ]);
        expect(v.out).toMatch(/certificate revoked/);
        expect(v.status).not.toBe(0);

        const der = await server.pkiRequest('GET', crlPath);
        expect(der.headers['content-type']).toBe('application/pkix-crl');
        expect(der.headers['cache-control']).toMatch(/max-age=\d+/);
        expect(openssl(['crl', '-inform', 'DER', '-noout', '-text'], der.body).out).toMatch(
          /Key Compromise/,
        );
      });

      it('ok/OCSP over GET (base64 in the path) and the CA certificate over plain HTTP', async () => {
        const reqFile = files.file('get.req', '');
        openssl([
          'ocsp',
          '-issuer',
          `${files.dir}/issuing.pem`,
          '-cert',
          `${files.dir}/device.pem`,
          '-no_nonce',
          '-reqout',
          reqFile,
        ]);
        const b64 = encodeURIComponent(readFileSync(reqFile).toString('base64'));
        const res = await server.pkiRequest(
          'GET',
          `/pki/${server.runtime.instance.id}/ocsp/${b64}`,
        );
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('application/ocsp-response');
        const respFile = files.file('get.resp', res.body, true);
        const out = openssl([
          'ocsp',
          '-respin',
          respFile,
          '-issuer',
          `${files.dir}/issuing.pem`,
          '-cert',
          `${files.dir}/device.pem`,
          '-CAfile',
          `${files.dir}/root.pem`,
        ]).out;
        expect(out).toMatch(/device.pem: revoked/);
        const bad = await server.pkiRequest(
          'GET',
          `/pki/${server.runtime.instance.id}/ocsp/bm90IG9jc3A=`,
        );
        expect(bad.body.equals(Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]))).toBe(true); // malformedRequest
        const crt = await server.pkiRequest(
          'GET',
          `/pki/${server.runtime.instance.id}/${ca.id}.crt`,
        );
        expect(crt.headers['content-type']).toBe('application/pkix-cert');
        expect(toPem(crt.body)).toBe(readFileSync(`${files.dir}/issuing.pem`, 'utf8'));
        const missing = await server.pkiRequest(
          'GET',
          `/pki/${server.runtime.instance.id}/${server.runtime.instance.id}.crl`,
        );
        expect(missing.status).toBe(404);
      });

      it('ok/signing keys: generate, import as nohsm:, public key only; delete refused while in use', async () => {
        const gen = await api('POST', '/api/v1/pki/signing-keys', admin, {
          name: 'fw-release',
          algorithm: 'P-256',
        });
        expect(gen.status).toBe(201);
        expect(gen.json()).toMatchObject({
          name: 'fw-release',
          type: 'ecdsa',
          size: 256,
          backend,
          imported: false,
        });
        const rsa = await api('POST', '/api/v1/pki/signing-keys', admin, {
          name: 'esp32-sbv2',
          algorithm: 'RSA-3072',
        });
        expect(rsa.json()).toMatchObject({ type: 'rsa', size: 3072 });
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
        const pemKey = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
        const imp = await api('POST', '/api/v1/pki/signing-keys/import', admin, {
          name: 'dev',
          privateKeyPem: pemKey,
        });
        expect(imp.status).toBe(201);
        expect(imp.json()).toMatchObject({
          name: 'nohsm:dev',
          imported: true,
          backend: 'software',
        });
        const bad = await api('POST', '/api/v1/pki/signing-keys/import', admin, {
          name: 'bad',
          privateKeyPem: 'nope',
        });
        expect(bad.status).toBe(400);
        const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({
          type: 'pkcs8',
          format: 'pem',
        });
        expect(
          (
            await api('POST', '/api/v1/pki/signing-keys/import', admin, {
              name: 'p384',
              privateKeyPem: p384,
            })
          ).status,
        ).toBe(400);
        expect(
          (await api('POST', '/api/v1/pki/signing-keys', admin, { name: 'fw-release' })).status,
        ).toBe(409);
        expect(
          (await api('POST', '/api/v1/pki/signing-keys', contributor, { name: 'c' })).status,
        ).toBe(403);

        const list = (await api('GET', '/api/v1/pki/signing-keys', contributor)).json<{
          keys: { id: string; name: string }[];
        }>();
        expect(list.keys.map((k) => k.name).sort()).toEqual([
          'esp32-sbv2',
          'fw-release',
          'nohsm:dev',
        ]);
        const impId = imp.json<{ id: string }>().id;
        const pub = await api('GET', `/api/v1/pki/signing-keys/${impId}/public-key`, contributor);
        expect(pub.text).toBe(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }));

        // Another domain registers its check; a key it reports in use cannot go.
        const genId = gen.json<{ id: string }>().id;
        const unregister = server.runtime.pkiServices.keyUsage.register(
          'firmware-rollouts',
          async (_i, keyId) => (keyId === genId ? ['rollout "Line 1"'] : []),
        );
        const refused = await api('DELETE', `/api/v1/pki/signing-keys/${genId}`, admin);
        expect(refused.status).toBe(409);
        expect(refused.json()).toMatchObject({
          type: expect.stringMatching(/key-in-use$/),
          usedBy: ['rollout "Line 1"'],
        });
        expect((await api('DELETE', `/api/v1/pki/signing-keys/${impId}`, admin)).status).toBe(204);
        unregister();
        expect((await api('DELETE', `/api/v1/pki/signing-keys/${genId}`, admin)).status).toBe(204);
        expect(
          (await api('GET', `/api/v1/pki/signing-keys/${genId}/public-key`, admin)).status,
        ).toBe(404);

        // No response of any route carried private key material.
        const secretPart = pemKey.split('\n')[2]!;
        for (const r of seen) {
          expect(r.text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
          expect(r.text).not.toContain(secretPart);
        }
      });

      it('ok/every PKI action is in the audit log', async () => {
        const res = await api('GET', '/api/v1/audit/recent?limit=100', admin);
        const actions = res
          .json<{ entries: { action: string; result: string }[] }>()
          .entries.map((e) => `${e.action}:${e.result}`);
        for (const a of [
          'pki.issuing-ca.create:ok',
          'pki.device-certificate.issue:ok',
          'pki.device-certificate.issue:failed',
          'pki.device-certificate.revoke:ok',
          'pki.signing-key.generate:ok',
          'pki.signing-key.import:ok',
          'pki.signing-key.delete:denied',
          'pki.signing-key.delete:ok',
        ]) {
          expect(actions).toContain(a);
        }
      });
    });
  }
