import { createPublicKey, sign } from 'node:crypto';
import { createProofHeader, nodeKeySigner, type ProofPurpose } from '@trustlink/protocol';
import {
  KeyUsageFlags,
  buildCertificate,
  randomSerial,
  toPem,
} from '../pki/certificate-builder.js';
import type { DeviceKeyType } from '../pki/device-key-fns.js';
import type { TestPrincipal } from './test-auth.js';
import { deviceKey, makeCsr, type CsrOptions, type TestDeviceKey } from './test-csr.js';
import type { RequestOptions, TestResponse, TestServer } from './test-server.js';

/** A device for tests: its identity key, a self-signed bootstrap certificate, PEMs for TLS. */
export interface TestDevice extends TestDeviceKey {
  keyPem: string;
  bootstrapPem: string;
}

const HASH = {
  'P-256': 'sha256',
  'P-384': 'sha384',
  'RSA-2048': 'sha256',
  'RSA-3072': 'sha256',
} as const;

/** A new device key with a self-signed bootstrap certificate around it. */
export async function testDevice(type: DeviceKeyType = 'P-256'): Promise<TestDevice> {
  const k = deviceKey(type);
  const scheme =
    type === 'P-384' ? 'ecdsa-sha384' : type.startsWith('P-') ? 'ecdsa-sha256' : 'rsa-pkcs1-sha256';
  const now = Date.now();
  const der = await buildCertificate(
    {
      serial: randomSerial(),
      issuer: 'CN=bootstrap',
      subject: 'CN=bootstrap',
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 24 * 3600_000),
      subjectPublicKeyDer: k.spkiDer,
      keyUsage: KeyUsageFlags.digitalSignature,
    },
    { scheme, sign: async (tbs) => sign(HASH[type], tbs, k.privateKey) },
  );
  return {
    ...k,
    keyPem: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    bootstrapPem: toPem(der),
  };
}

/** The enrol body for a device (a CSR for its identity key unless told otherwise). */
export function enrolBody(
  d: TestDeviceKey,
  extra: Record<string, unknown> = {},
  csr: CsrOptions = {},
) {
  return JSON.stringify({ csr: makeCsr(d, csr).toString('base64url'), ...extra });
}

/** A fresh challenge nonce from the server. */
export async function challenge(server: TestServer): Promise<string> {
  const r = await server.deviceRequest('POST', '/device/v1/challenge', { body: {} });
  if (r.status !== 200) throw new Error(`challenge: ${r.status} ${r.text}`);
  return r.json<{ nonce: string }>().nonce;
}

/** Headers of a JSON request carrying a Trustlink-Proof over exactly `body`. */
export async function proofHeaders(
  server: TestServer,
  d: TestDeviceKey,
  purpose: ProofPurpose,
  path: string,
  body: string,
  opts: {
    nonce?: string;
    cert?: Buffer;
    host?: string;
    signedPath?: string;
    signedBody?: string;
  } = {},
): Promise<Record<string, string>> {
  const nonce = opts.nonce ?? (await challenge(server));
  const header = await createProofHeader({
    credential: opts.cert ? { type: 'cert', der: opts.cert } : { type: 'spki', der: d.spkiDer },
    purpose,
    nonce,
    request: {
      host: opts.host ?? '127.0.0.1',
      method: 'POST',
      path: opts.signedPath ?? path,
      body: Buffer.from(opts.signedBody ?? body),
    },
    signer: nodeKeySigner(d.privateKey),
  });
  return { 'content-type': 'application/json', 'trustlink-proof': header };
}

/** A JSON POST to the device port with a raw body (what a proof signs). */
export function devicePost(
  server: TestServer,
  path: string,
  body: string,
  opts: RequestOptions = {},
): Promise<TestResponse> {
  return server.deviceRequest('POST', path, {
    ...opts,
    body,
    headers: { 'content-type': 'application/json', ...opts.headers },
  });
}

/** TLS client credentials of a device: its bootstrap certificate, or a given certificate. */
export function tlsAs(
  d: TestDevice,
  certPem = d.bootstrapPem,
): Pick<RequestOptions, 'cert' | 'key'> {
  return { cert: certPem, key: d.keyPem };
}

/** Creates a policy and a batch through the API; returns their ids. */
export async function createPolicyAndBatch(
  server: TestServer,
  admin: TestPrincipal,
  name: string,
  deviceCertificate: Record<string, unknown> = {},
): Promise<{ policyId: string; batchId: string }> {
  const p = await server.request('POST', '/api/v1/policies', {
    headers: admin.headers,
    body: {
      name,
      connectionType: 'iot-hub',
      deviceCertificate: { lifetime: { value: 1, unit: 'years' }, ...deviceCertificate },
      issuingCertificate: { lifetime: { value: 5, unit: 'years' } },
    },
  });
  if (p.status !== 201) throw new Error(`policy: ${p.status} ${p.text}`);
  const policyId = p.json<{ id: string }>().id;
  const b = await server.request('POST', '/api/v1/batches', {
    headers: admin.headers,
    body: { name, policyId },
  });
  if (b.status !== 201) throw new Error(`batch: ${b.status} ${b.text}`);
  return { policyId, batchId: b.json<{ id: string }>().id };
}

/** Registers device IDs into a batch through the API. */
export async function register(
  server: TestServer,
  admin: TestPrincipal,
  batchId: string,
  ...ids: string[]
): Promise<void> {
  const r = await server.request('POST', `/api/v1/batches/${batchId}/devices/upload`, {
    headers: admin.headers,
    body: { devices: ids },
  });
  if (r.status !== 200) throw new Error(`register: ${r.status} ${r.text}`);
}

/** The public key of a certificate as SPKI DER (to compare with a device key). */
export function spkiOfPem(pem: string): Buffer {
  return createPublicKey(pem).export({ type: 'spki', format: 'der' });
}
