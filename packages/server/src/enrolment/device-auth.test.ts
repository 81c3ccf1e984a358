import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Device } from '../devices/device-repo.js';
import { UnauthorizedError } from '../lib/errors.js';
import { factoryPki } from '../test-helpers/test-factory-ca.js';
import { testDevice, type TestDevice } from '../test-helpers/test-devices.js';
import { createDeviceAuth, type DeviceAuthDeps } from './device-auth.js';
import type { DeviceRequestContext, RefusalKind } from './device-audit.js';

const pemDer = (pem: string) => new X509Certificate(pem).raw;

/** A socket whose client presented these certificates (leaf first), linked as Node links them. */
function socketPresenting(pems: string[]): TLSSocket {
  const xs = pems.map((p) => new X509Certificate(p));
  const detailed = xs.map((x) => ({
    raw: x.raw,
    fingerprint256: x.fingerprint256,
    issuerCertificate: undefined as unknown,
  }));
  detailed.forEach((d, i) => (d.issuerCertificate = detailed[i + 1] ?? d));
  return { getPeerCertificate: () => detailed[0] } as unknown as TLSSocket;
}

const request = (socket: TLSSocket) => ({ headers: {}, raw: { socket } });

/**
 * Device certificates judged once per presented chain and remembered across connections:
 * keyed on every certificate presented, bounded, tied to the CA list they were judged against,
 * and never standing in for the device's state, which is read on every request.
 */
describe('device certificate judgements across connections', () => {
  const pki = factoryPki();
  const issuing = pki.root('Issuing CA');
  const other = pki.root('Other CA');
  const intermediate = pki.intermediate(other, 'Other intermediate');
  let devices: TestDevice[];
  let certs: string[];
  let state: Device['state'];
  let reads: number;

  beforeAll(async () => {
    devices = await Promise.all([testDevice(), testDevice(), testDevice()]);
    certs = devices.map((d) => pki.deviceCertificate(issuing, d));
  });
  afterAll(() => pki.remove());
  afterEach(() => vi.restoreAllMocks());

  function auth(extra: Partial<DeviceAuthDeps> = {}) {
    state = 'enrolled';
    reads = 0;
    const deps: DeviceAuthDeps = {
      caRepo: {
        list: async () => [{ id: 'ca-1', der: pemDer(issuing.pem) }] as never,
      },
      lifecycle: {
        findByCertificate: async (_i, issuerId, serial) => {
          reads++;
          return {
            certId: `${issuerId}/${serial}`,
            status: 'valid',
            notBefore: new Date(0).toISOString(),
            notAfter: new Date(Date.now() + 3600_000).toISOString(),
            device: { id: 'dev', state, batchId: 'b' } as Device,
          };
        },
        findByCertificateAlongside: async () => undefined,
      },
      sessions: {
        resolveWithDevice: async () => undefined,
        resolveWithDeviceAlongside: async () => undefined,
      },
      connections: { track: () => {} },
      audit: {
        refuse: async (_c: DeviceRequestContext, _a: string, kind: RefusalKind, reason: string) =>
          Object.assign(new UnauthorizedError(reason), { kind }),
        ok: async () => {},
      },
      ...extra,
    };
    return createDeviceAuth(deps);
  }

  it('ok/the same chain on a new connection is not judged again', async () => {
    const a = auth();
    const verify = vi.spyOn(X509Certificate.prototype, 'verify');
    const first = await a.peer(request(socketPresenting([certs[0]!])), 'i');
    expect(first).toMatchObject({ kind: 'device-certificate', issuerId: 'ca-1' });
    const checks = verify.mock.calls.length;
    expect(checks).toBeGreaterThan(0);
    const again = await a.peer(request(socketPresenting([certs[0]!])), 'i');
    expect(again).toEqual(first);
    expect(verify.mock.calls.length).toBe(checks);
    expect(a.judgedSize()).toBe(1);
  });

  it('ok/the key is the whole chain: the same leaf with other certificates is judged on its own', async () => {
    const a = auth();
    await a.peer(request(socketPresenting([certs[0]!])), 'i');
    const verify = vi.spyOn(X509Certificate.prototype, 'verify');
    const withMore = await a.peer(
      request(socketPresenting([certs[0]!, intermediate.pem, other.pem])),
      'i',
    );
    expect(withMore.kind).toBe('device-certificate');
    expect(verify).toHaveBeenCalled();
    expect(a.judgedSize()).toBe(2);
  });

  it('ok/a certificate that is not ours is judged every time, with the chain it came with', async () => {
    const a = auth();
    const foreign = pki.deviceCertificate(intermediate, devices[2]!);
    const chain = [foreign, intermediate.pem];
    const first = await a.peer(request(socketPresenting(chain)), 'i');
    expect(first).toMatchObject({ kind: 'foreign', intermediates: [pemDer(intermediate.pem)] });
    expect(a.judgedSize()).toBe(0);
    const alone = await a.peer(request(socketPresenting([foreign])), 'i');
    expect(alone).toMatchObject({ kind: 'foreign', intermediates: [] });
  });

  it('ok/a new issuing CA makes every judgement of the old list stale', async () => {
    const a = auth();
    await a.peer(request(socketPresenting([certs[0]!])), 'i');
    a.noteIssuer('i', 'ca-new');
    const verify = vi.spyOn(X509Certificate.prototype, 'verify');
    await a.peer(request(socketPresenting([certs[0]!])), 'i');
    expect(verify).toHaveBeenCalled();
  });

  it('ok/bounded: the least recently used chain goes first', async () => {
    const a = auth({ judgedMax: 2 });
    const judge = (i: number) => a.peer(request(socketPresenting([certs[i]!])), 'i');
    await judge(0);
    await judge(1);
    await judge(0); // 0 used last: 1 is the oldest now
    await judge(2);
    expect(a.judgedSize()).toBe(2);
    const verify = vi.spyOn(X509Certificate.prototype, 'verify');
    await judge(0);
    expect(verify).not.toHaveBeenCalled();
    await judge(1);
    expect(verify).toHaveBeenCalled();
  });

  it('fail/a remembered chain still reads the device on every request: revoked is refused at once', async () => {
    const a = auth();
    const ctx = (): DeviceRequestContext => ({
      instanceId: 'i',
      sourceAddress: null,
      channel: 'device-api',
    });
    const who = await a.authenticate(request(socketPresenting([certs[0]!])), ctx(), 'x');
    expect(who.device.id).toBe('dev');
    state = 'revoked';
    await expect(
      a.authenticate(request(socketPresenting([certs[0]!])), ctx(), 'x'),
    ).rejects.toMatchObject({ kind: 'revoked' });
    expect(reads).toBe(2);
  });
});
