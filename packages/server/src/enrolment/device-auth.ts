import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { spkiFromCertificate } from '@trustlink/protocol';
import type { Device } from '../devices/device-repo.js';
import type { DeviceLifecycleRepo } from '../devices/device-lifecycle-repo.js';
import type { DeviceSessionService } from '../device-sessions/device-session-service.js';
import type { CaRepo } from '../pki/ca-repo.js';
import { isSelfSigned, parseCertificate, serialOf, signedBy } from './cert-chain-fns.js';
import type { DeviceAudit, DeviceRequestContext } from './device-audit.js';
import type { DeviceConnections } from './device-connections.js';

/** What the TLS client certificate of a connection is, judged once per connection. */
export type PeerCredential =
  | { kind: 'none' }
  /** Issued by one of the instance's issuing CAs (signature checked). */
  | { kind: 'device-certificate'; issuerId: string; serial: string; der: Buffer }
  /** Self-signed, and its own key verifies it: proves the key, nothing more. */
  | { kind: 'bootstrap'; der: Buffer; spki: Buffer }
  /** Anything else: perhaps a factory certificate, with the intermediates the client sent. */
  | { kind: 'foreign'; der: Buffer; intermediates: Buffer[] };

/** A device request that authenticated with a device certificate or a bearer session. */
export interface AuthenticatedDevice {
  device: Device;
  via: 'tls' | 'bearer';
  /** Id of the device certificate presented (TLS only). */
  certId?: string;
}

export interface DeviceAuthDeps {
  caRepo: Pick<CaRepo, 'list'>;
  lifecycle: Pick<DeviceLifecycleRepo, 'findByCertificate'>;
  sessions: Pick<DeviceSessionService, 'resolveWithDevice'>;
  connections: Pick<DeviceConnections, 'track'>;
  audit: DeviceAudit;
  now?: () => Date;
}

const CA_CACHE_MS = 60_000;
/** A certificate naming an issuer we do not know reloads the CA list at most this often. */
const CA_MISS_RELOAD_MS = 2_000;

/** The context of a device request before the device is known. */
export function requestContext(
  req: FastifyRequest,
  instanceId: string,
  channel: DeviceRequestContext['channel'],
): DeviceRequestContext {
  return { instanceId, sourceAddress: req.ip, channel };
}

/**
 * Authenticates device requests: the TLS client certificate (the handshake has proven the
 * private key; we check what the certificate is) or a bearer session. Every request reads the
 * device's state, so a revocation takes effect on the next request; connections that
 * authenticated are tracked so revocation can close them.
 */
export function createDeviceAuth(deps: DeviceAuthDeps) {
  const now = deps.now ?? (() => new Date());
  const byConnection = new WeakMap<TLSSocket, Promise<PeerCredential>>();
  const cas = new Map<string, { at: number; list: { id: string; x: X509Certificate }[] }>();

  async function issuingCas(instanceId: string, fresh: boolean) {
    const hit = cas.get(instanceId);
    const t = Date.now();
    if (hit && t - hit.at < (fresh ? CA_MISS_RELOAD_MS : CA_CACHE_MS)) return hit.list;
    const list = (await deps.caRepo.list(instanceId, 'issuing'))
      .map((c) => ({ id: c.id, x: parseCertificate(c.der)! }))
      .filter((c) => c.x);
    cas.set(instanceId, { at: t, list });
    return list;
  }

  /** What a certificate a device presents is: ours, self-signed, or someone else's. */
  async function classifyCertificate(
    instanceId: string,
    der: Buffer,
    intermediates: Buffer[],
  ): Promise<PeerCredential> {
    const x = parseCertificate(der);
    if (!x) return { kind: 'foreign', der, intermediates };
    for (const fresh of [false, true]) {
      const issuer = (await issuingCas(instanceId, fresh)).find((c) => c.x.subject === x.issuer);
      if (issuer) {
        if (signedBy(x, issuer.x))
          return { kind: 'device-certificate', issuerId: issuer.id, serial: serialOf(x), der };
        break;
      }
    }
    if (isSelfSigned(x)) {
      const spki = spkiFromCertificate(der);
      if (spki.ok) return { kind: 'bootstrap', der, spki: spki.spki };
    }
    return { kind: 'foreign', der, intermediates };
  }

  function classify(socket: TLSSocket, instanceId: string): Promise<PeerCredential> {
    const peer = socket.getPeerCertificate(true);
    if (!peer?.raw) return Promise.resolve({ kind: 'none' });
    const der = Buffer.from(peer.raw);
    // The intermediates the client sent, as Node links them (a self-link ends the chain).
    const intermediates: Buffer[] = [];
    let link = peer.issuerCertificate;
    while (link?.raw && intermediates.length < 8) {
      const d = Buffer.from(link.raw);
      if (d.equals(der) || intermediates.some((i) => i.equals(d))) break;
      intermediates.push(d);
      link = link.issuerCertificate;
    }
    return classifyCertificate(instanceId, der, intermediates);
  }

  /** The TLS client certificate of the request's connection, classified once per connection. */
  function peer(req: FastifyRequest, instanceId: string): Promise<PeerCredential> {
    const socket = req.raw.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function') return Promise.resolve({ kind: 'none' });
    let p = byConnection.get(socket);
    if (!p) {
      p = classify(socket, instanceId);
      byConnection.set(socket, p);
    }
    return p;
  }

  /**
   * The device behind a request authenticated by its device certificate or a bearer session.
   * `allowExpired` lets an expired (not revoked) certificate through, for check-ins to learn
   * that they have expired. Refusals are audited under `action` and thrown.
   */
  async function authenticate(
    req: FastifyRequest,
    ctx: DeviceRequestContext,
    action: string,
    opts: { allowExpired?: boolean } = {},
  ): Promise<AuthenticatedDevice> {
    const { instanceId } = ctx;
    // Only a bearer token is a session; EST clients may send Basic credentials beside TLS.
    const auth = req.headers.authorization;
    let result: AuthenticatedDevice;
    if (auth !== undefined && /^Bearer /i.test(auth)) {
      const m = /^Bearer ([A-Za-z0-9._~-]{16,512})$/.exec(auth);
      // The session and its device's current state in one read.
      const live = m ? await deps.sessions.resolveWithDevice(instanceId, m[1]!) : undefined;
      if (!live)
        throw await deps.audit.refuse(
          ctx,
          action,
          'unauthorized',
          'unknown, expired or ended session token',
        );
      ctx.deviceId = live.session.deviceId;
      const { device } = live;
      result = { device, via: 'bearer' };
    } else {
      const p = await peer(req, instanceId);
      if (p.kind !== 'device-certificate') {
        throw await deps.audit.refuse(
          ctx,
          action,
          'unauthorized',
          p.kind === 'none'
            ? 'no client certificate and no bearer token'
            : `the client certificate (${p.kind}) is not a device certificate of this instance`,
        );
      }
      const found = await deps.lifecycle.findByCertificate(instanceId, p.issuerId, p.serial);
      if (!found)
        throw await deps.audit.refuse(
          ctx,
          action,
          'unauthorized',
          `certificate serial ${p.serial} is unknown`,
        );
      ctx.deviceId = found.device.id;
      if (found.device.state === 'revoked')
        throw await deps.audit.refuse(ctx, action, 'revoked', 'device is revoked');
      if (found.status !== 'valid')
        throw await deps.audit.refuse(
          ctx,
          action,
          'unauthorized',
          `certificate ${p.serial} is revoked`,
        );
      if (!opts.allowExpired && Date.parse(found.notAfter) <= now().getTime()) {
        throw await deps.audit.refuse(
          ctx,
          action,
          'unauthorized',
          `certificate ${p.serial} expired at ${found.notAfter}`,
        );
      }
      result = { device: found.device, via: 'tls', certId: found.certId };
    }
    if (result.device.state === 'revoked')
      throw await deps.audit.refuse(ctx, action, 'revoked', 'device is revoked');
    deps.connections.track(instanceId, result.device.id, req.raw.socket);
    return result;
  }

  return {
    peer,
    classifyCertificate,
    authenticate,
    /**
     * Told of every certificate issued: one from an issuing CA the cache does not hold yet (a
     * new policy's) drops the cache, so the device's next request finds its issuer at once.
     */
    noteIssuer(instanceId: string, issuerId: string): void {
      if (!cas.get(instanceId)?.list.some((c) => c.id === issuerId)) cas.delete(instanceId);
    },
  };
}
export type DeviceAuth = ReturnType<typeof createDeviceAuth>;
