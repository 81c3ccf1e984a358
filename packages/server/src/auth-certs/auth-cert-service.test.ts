import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spkiDer } from '../keystore/key-algorithms.js';
import {
  buildCertificate,
  KeyUsageFlags,
  randomSerial,
  toPem,
} from '../pki/certificate-builder.js';
import { createEnrolmentTokenRepo } from '../enrolment-tokens/enrolment-token-repo.js';
import { createEnrolmentTokenService } from '../enrolment-tokens/enrolment-token-service.js';
import { TEST_DIALECTS } from '../test-helpers/test-databases.js';
import { openFleet, policyInput, testCtx } from '../test-helpers/test-fleet.js';
import { createAuthCertRepo } from './auth-cert-repo.js';
import { createAuthCertService } from './auth-cert-service.js';

/** A certificate made by our builder with a throwaway key, for the shapes openssl makes awkward. */
async function makeCert(opts: {
  ca: boolean;
  keyUsage: number;
  notBefore: Date;
  notAfter: Date;
}): Promise<string> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const der = await buildCertificate(
    {
      serial: randomSerial(),
      issuer: 'CN=Test Vendor CA',
      subject: 'CN=Test Vendor CA',
      notBefore: opts.notBefore,
      notAfter: opts.notAfter,
      subjectPublicKeyDer: spkiDer(privateKey),
      ca: opts.ca ? {} : undefined,
      keyUsage: opts.keyUsage,
    },
    { scheme: 'ecdsa-sha256', sign: async (tbs) => sign('sha256', tbs, privateKey) },
  );
  return toPem(der);
}

const day = 86_400_000;

for (const dialect of TEST_DIALECTS) {
  describe(`auth certs and tokens on ${dialect}`, () => {
    let fleet: Awaited<ReturnType<typeof openFleet>>;
    let batchId: string;
    let otherBatchId: string;
    let vendorPem: string;
    let dir: string;
    let clock = new Date();
    let authCerts: ReturnType<typeof createAuthCertService>;
    let tokens: ReturnType<typeof createEnrolmentTokenService>;

    beforeAll(async () => {
      fleet = await openFleet(dialect);
      const policy = await fleet.policies.create(fleet.i1, policyInput(), testCtx);
      batchId = (
        await fleet.batches.create(
          fleet.i1,
          {
            name: 'Factory',
            policyId: policy.id,
            attributeFilter: { operator: 'and', filters: [] },
          },
          testCtx,
        )
      ).id;
      otherBatchId = (
        await fleet.batches.create(
          fleet.i1,
          {
            name: 'Other',
            policyId: policy.id,
            attributeFilter: { operator: 'and', filters: [] },
          },
          testCtx,
        )
      ).id;
      const batchExists = async (i: string, id: string) =>
        !!(await fleet.batches.get(i, id).catch(() => undefined));
      authCerts = createAuthCertService({
        repo: createAuthCertRepo(fleet.db.kysely),
        batchExists,
        db: fleet.db,
        audit: fleet.server.runtime.audit,
        now: () => clock,
      });
      tokens = createEnrolmentTokenService({
        repo: createEnrolmentTokenRepo(fleet.db.kysely),
        batchExists,
        db: fleet.db,
        audit: fleet.server.runtime.audit,
        now: () => clock,
      });
      // A vendor CA as a secure-element maker would make it, with openssl.
      dir = mkdtempSync(path.join(os.tmpdir(), 'tl-vendor-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          path.join(dir, 'k.pem'),
          '-out',
          path.join(dir, 'ca.pem'),
          '-days',
          '3650',
          '-subj',
          '/CN=Acme Secure Element CA/O=Acme',
          '-addext',
          'basicConstraints=critical,CA:TRUE',
          '-addext',
          'keyUsage=critical,keyCertSign,cRLSign',
        ],
        { stdio: 'ignore' },
      );
      vendorPem = readFileSync(path.join(dir, 'ca.pem'), 'utf8');
    });
    afterAll(async () => {
      rmSync(dir, { recursive: true, force: true });
      await fleet?.close();
    });

    it('ok/import a vendor CA made by openssl, named after its CN', async () => {
      const c = await authCerts.import(
        fleet.i1,
        { pem: vendorPem, batchId, rule: 'requires-token' },
        testCtx,
      );
      expect(c).toMatchObject({ name: 'Acme Secure Element CA', rule: 'requires-token', batchId });
      expect((await authCerts.list(fleet.i1)).map((x) => x.id)).toEqual([c.id]);
      expect(await authCerts.list(fleet.i2)).toEqual([]);
    });

    it('fail/the same CA twice', async () => {
      await expect(
        authCerts.import(fleet.i1, { pem: vendorPem, batchId, rule: 'must-pre-register' }, testCtx),
      ).rejects.toThrow(/already imported as "Acme Secure Element CA"/);
    });

    const now = new Date();
    const bad: [string, () => Promise<string>, string | undefined, RegExp][] = [
      ['fail/no rule', async () => vendorPem, undefined, /choose a rule/],
      [
        'fail/not a CA',
        () =>
          makeCert({
            ca: false,
            keyUsage: KeyUsageFlags.digitalSignature,
            notBefore: new Date(now.getTime() - day),
            notAfter: new Date(now.getTime() + day),
          }),
        'must-pre-register',
        /not a CA certificate/,
      ],
      [
        'fail/CA without keyCertSign',
        () =>
          makeCert({
            ca: true,
            keyUsage: KeyUsageFlags.cRLSign,
            notBefore: new Date(now.getTime() - day),
            notAfter: new Date(now.getTime() + day),
          }),
        'must-pre-register',
        /lacks keyCertSign/,
      ],
      [
        'fail/expired',
        () =>
          makeCert({
            ca: true,
            keyUsage: KeyUsageFlags.keyCertSign,
            notBefore: new Date(now.getTime() - 10 * day),
            notAfter: new Date(now.getTime() - day),
          }),
        'must-pre-register',
        /expired on/,
      ],
      [
        'fail/malformed',
        async () => '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
        'must-pre-register',
        /malformed/,
      ],
      ['fail/not PEM', async () => 'hello', 'must-pre-register', /no PEM certificate found/],
      [
        'fail/a private key pasted too',
        async () => vendorPem + readFileSync(path.join(dir, 'k.pem'), 'utf8'),
        'must-pre-register',
        /holds a private key/,
      ],
      [
        'fail/two certificates',
        async () => vendorPem + vendorPem,
        'must-pre-register',
        /holds 2 certificates/,
      ],
    ];
    for (const [name, pem, rule, msg] of bad) {
      it(name, async () => {
        const before = (await authCerts.list(fleet.i1)).length;
        await expect(
          authCerts.import(
            fleet.i1,
            {
              pem: await pem(),
              batchId,
              rule: rule as 'must-pre-register' | undefined,
            },
            testCtx,
          ),
        ).rejects.toThrow(msg);
        expect((await authCerts.list(fleet.i1)).length).toBe(before);
      });
    }

    it('ok/token: value shown once, 128 bits, stored hashed, checked per batch and time', async () => {
      clock = new Date('2026-12-01T00:00:00Z');
      const { token, value } = await tokens.create(
        fleet.i1,
        {
          name: 'Line 1',
          batchId,
          notBefore: '2026-12-01T00:00:00Z',
          notAfter: '2027-01-01T00:00:00Z',
        },
        testCtx,
      );
      expect(value).toMatch(/^[0-9a-f]{32}$/);
      expect(JSON.stringify(await tokens.list(fleet.i1))).not.toContain(value);
      const rows = await fleet.db.kysely.selectFrom('enrolment_tokens').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(value);
      expect(await tokens.check(fleet.i1, value, batchId)).toEqual({ ok: true, token });
      expect(await tokens.check(fleet.i1, value.toUpperCase(), batchId)).toMatchObject({
        ok: true,
      });
      expect(await tokens.check(fleet.i1, value, otherBatchId)).toEqual({
        ok: false,
        reason: 'token "Line 1" belongs to another batch',
      });
      expect(await tokens.check(fleet.i2, value, batchId)).toEqual({
        ok: false,
        reason: 'unknown token',
      });
      expect(await tokens.check(fleet.i1, '0'.repeat(32), batchId)).toEqual({
        ok: false,
        reason: 'unknown token',
      });
      clock = new Date('2026-11-30T23:59:59Z');
      expect(await tokens.check(fleet.i1, value, batchId)).toMatchObject({
        ok: false,
        reason: /not valid before/,
      });
      clock = new Date('2027-01-01T00:00:00Z');
      expect(await tokens.check(fleet.i1, value, batchId)).toMatchObject({
        ok: false,
        reason: /expired/,
      });
      await tokens.remove(fleet.i1, token.id, testCtx);
      expect(await tokens.check(fleet.i1, value, batchId)).toEqual({
        ok: false,
        reason: 'unknown token',
      });
    });

    it('fail/token rules', async () => {
      clock = new Date('2026-12-01T00:00:00Z');
      await expect(
        tokens.create(
          fleet.i1,
          {
            name: 'x',
            batchId,
            notBefore: '2027-01-01T00:00:00Z',
            notAfter: '2026-12-15T00:00:00Z',
          },
          testCtx,
        ),
      ).rejects.toThrow(/later than notBefore/);
      await expect(
        tokens.create(
          fleet.i1,
          {
            name: 'x',
            batchId,
            notBefore: '2026-01-01T00:00:00Z',
            notAfter: '2026-02-01T00:00:00Z',
          },
          testCtx,
        ),
      ).rejects.toThrow(/in the past/);
      await expect(
        tokens.create(
          fleet.i1,
          {
            name: 'x',
            batchId: 'nope',
            notBefore: '2026-12-01T00:00:00Z',
            notAfter: '2027-02-01T00:00:00Z',
          },
          testCtx,
        ),
      ).rejects.toThrow(/batch nope does not exist/);
      await tokens.create(
        fleet.i1,
        {
          name: 'dup',
          batchId,
          notBefore: '2026-12-01T00:00:00Z',
          notAfter: '2027-02-01T00:00:00Z',
        },
        testCtx,
      );
      await expect(
        tokens.create(
          fleet.i1,
          {
            name: 'dup',
            batchId,
            notBefore: '2026-12-01T00:00:00Z',
            notAfter: '2027-02-01T00:00:00Z',
          },
          testCtx,
        ),
      ).rejects.toThrow(/already exists/);
    });
  });
}

describe('batch removal with references', () => {
  it('fail/a batch an auth cert points at is not removed', async () => {
    const fleet = await openFleet('sqlite');
    try {
      const policy = await fleet.policies.create(fleet.i1, policyInput(), testCtx);
      const b = await fleet.batches.create(
        fleet.i1,
        {
          name: 'B',
          policyId: policy.id,
          attributeFilter: { operator: 'and', filters: [] },
        },
        testCtx,
      );
      const tokens = fleet.enrolmentTokens;
      await tokens.create(
        fleet.i1,
        {
          name: 't',
          batchId: b.id,
          notBefore: new Date().toISOString(),
          notAfter: new Date(Date.now() + day).toISOString(),
        },
        testCtx,
      );
      await expect(fleet.batches.remove(fleet.i1, b.id, testCtx)).rejects.toThrow(/is still used/);
      expect((await fleet.batches.get(fleet.i1, b.id)).name).toBe('B');
    } finally {
      await fleet.close();
    }
  });
});
