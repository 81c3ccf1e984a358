import { createPublicKey, X509Certificate } from 'node:crypto';
import https from 'node:https';
import tls, { type TLSSocket } from 'node:tls';
import type { DeviceAuthenticator } from '../devices/device-authenticator.js';
import type { Firmware, Rollout } from '../firmware/firmware-types.js';
import { createDeviceRepo } from '../devices/device-repo.js';
import { toPem } from '../pki/certificate-builder.js';
import type { Runtime } from '../runtime.js';
import { deviceKey, makeCsr } from './test-csr.js';
import type { TestPrincipal } from './test-auth.js';
import type { TestServer } from './test-server.js';

const SYSTEM = { actor: { type: 'system' as const, name: 'test-firmware' } };

/**
 * A device authenticator for tests, standing in for the enrolment domain's: the TLS client
 * certificate must be one the instance's PKI issued and still holds as valid (compared byte
 * for byte; the handshake proved the key), and its device must be registered.
 */
export function tlsCertificateAuthenticator(runtime: () => Runtime): DeviceAuthenticator {
  return async (request) => {
    const socket = request.raw.socket as TLSSocket;
    const peer =
      typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
    if (!peer?.raw) return null;
    const rt = runtime();
    const instanceId = rt.instance.id;
    const cn = /(?:^|\n)CN=([0-9a-f]{64})(?:\n|$)/.exec(new X509Certificate(peer.raw).subject)?.[1];
    if (!cn) return null;
    const certs = await rt.pkiServices.deviceCerts.list(instanceId, {
      deviceId: cn,
      status: 'valid',
      limit: 10,
      offset: 0,
    });
    if (!certs.some((c) => Buffer.from(c.der).equals(peer.raw))) return null;
    const device = await createDeviceRepo(rt.db.kysely).find(instanceId, cn);
    return device ? { instanceId, deviceId: device.id, batchId: device.batchId } : null;
  };
}

/** A device with a certificate from the instance's PKI, registered in a batch. */
export interface TestDevice {
  deviceId: string;
  /** Options for deviceRequest: the client certificate and key. */
  tls: { cert: string; key: string };
}

const issuingCas = new WeakMap<Runtime, Promise<string>>();

/** Registers a new device in the batch and issues its certificate (as enrolment would). */
export async function createTestDevice(server: TestServer, batchId: string): Promise<TestDevice> {
  const rt = server.runtime;
  const instanceId = rt.instance.id;
  let issuingCa = issuingCas.get(rt);
  if (!issuingCa) {
    issuingCa = rt.pkiServices.issuingCas
      .create(instanceId, { name: 'Test devices', lifetimeSeconds: 365 * 86400, keyType: 'P-256' })
      .then((ca) => ca.id);
    issuingCas.set(rt, issuingCa);
  }
  const key = deviceKey('P-256');
  await rt.fleet.batches.register(instanceId, batchId, [key.deviceId], SYSTEM);
  const cert = await rt.pkiServices.deviceCerts.issueDeviceCertificate({
    instanceId,
    issuingCaId: await issuingCa,
    csrDer: makeCsr(key),
    deviceId: key.deviceId,
    lifetimeSeconds: 30 * 86400,
  });
  return {
    deviceId: key.deviceId,
    tls: {
      cert: toPem(cert.der),
      key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    },
  };
}

/**
 * A GET on the device port that stops reading after `stopAfter` body bytes and drops the
 * connection, as a device losing its link mid-download would. Returns what arrived.
 */
export function interruptedDownload(
  server: TestServer,
  urlPath: string,
  device: TestDevice,
  stopAfter: number,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const url = new URL(urlPath, server.deviceUrl);
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        hostname: '127.0.0.1',
        servername: 'localhost',
        port: url.port,
        path: url.pathname,
        ca: server.rootPem,
        ...device.tls,
        agent: false,
      },
      (res) => {
        const parts: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          if (n >= stopAfter) return;
          parts.push(c.subarray(0, stopAfter - n));
          n += Math.min(c.length, stopAfter - n);
          if (n >= stopAfter) {
            req.destroy();
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(parts),
            });
          }
        });
        res.on('error', () => undefined);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts),
          }),
        );
      },
    );
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
  });
}

/** One HTTP response as read off a connection. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * GETs of one path with the given Range headers, all written at once on one TLS connection
 * (HTTP/1.1 pipelining, as a device's simple client may do) and read back in order: each
 * response must be whole and in its place for the next one to parse.
 */
export function pipelinedRanges(
  server: TestServer,
  urlPath: string,
  device: TestDevice,
  ranges: string[],
): Promise<RawResponse[]> {
  const url = new URL(urlPath, server.deviceUrl);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      servername: 'localhost',
      port: Number(url.port),
      ca: server.rootPem,
      ...device.tls,
    });
    const out: RawResponse[] = [];
    let buf = Buffer.alloc(0);
    socket.on('secureConnect', () => {
      socket.write(
        ranges
          .map((r) => `GET ${url.pathname} HTTP/1.1\r\nHost: localhost\r\nRange: ${r}\r\n\r\n`)
          .join(''),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of lines) {
          const i = l.indexOf(':');
          headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (buf.length < end + 4 + length) return;
        out.push({
          status: Number(statusLine!.split(' ')[1]),
          headers,
          body: Buffer.from(buf.subarray(end + 4, end + 4 + length)),
        });
        buf = buf.subarray(end + 4 + length);
        if (out.length === ranges.length) {
          socket.end();
          return resolve(out);
        }
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (out.length < ranges.length) reject(new Error(`closed after ${out.length} responses`));
    });
  });
}

/**
 * The management calls firmware tests make, as an administrator: upload, signing keys, batches
 * (under one policy made on first use), assignment and rollout.
 */
export function firmwareApi(server: TestServer, admin: TestPrincipal) {
  let policyId: string | undefined;
  const call = (method: string, url: string, body?: unknown, who: TestPrincipal = admin) =>
    server.request(method, url, { body, headers: who.headers });
  return {
    call,
    async upload(query: string, body: Buffer): Promise<Firmware> {
      const res = await server.request('POST', `/api/v1/firmware?${query}`, {
        body,
        headers: { ...admin.headers, 'content-type': 'application/octet-stream' },
      });
      if (res.status !== 201) throw new Error(`upload: ${res.status} ${res.text}`);
      return res.json<Firmware>();
    },
    /** A signing key in the key store, with its public key as DER SPKI. */
    async signingKey(name: string, algorithm: 'P-256' | 'RSA-3072') {
      const k = await call('POST', '/api/v1/pki/signing-keys', { name, algorithm });
      if (k.status !== 201) throw new Error(`signing key: ${k.status} ${k.text}`);
      const id = k.json<{ id: string }>().id;
      const pem = (await call('GET', `/api/v1/pki/signing-keys/${id}/public-key`)).text;
      return { id, spki: createPublicKey(pem).export({ type: 'spki', format: 'der' }) };
    },
    async batch(name: string, filters: { name: string; value: string }[] = []): Promise<string> {
      if (!policyId) {
        const p = await call('POST', '/api/v1/policies', {
          name: 'Updates',
          connectionType: 'iot-hub',
          deviceCertificate: { lifetime: { value: 1, unit: 'years' } },
          issuingCertificate: { lifetime: { value: 2, unit: 'years' } },
        });
        policyId = p.json<{ id: string }>().id;
      }
      const b = await call('POST', '/api/v1/batches', {
        name,
        policyId,
        attributeFilter: { operator: 'and', filters },
      });
      if (b.status !== 201) throw new Error(`batch: ${b.status} ${b.text}`);
      return b.json<{ id: string }>().id;
    },
    assign: (batch: string, firmwareId: string, signingKeyId: string, who = admin) =>
      call('PUT', `/api/v1/batches/${batch}/firmware`, { firmwareId, signingKeyId }, who),
    rollout: async (batch: string) =>
      (await call('GET', `/api/v1/batches/${batch}/rollout`)).json<Rollout>(),
  };
}
