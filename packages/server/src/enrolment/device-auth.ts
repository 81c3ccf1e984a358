import type { KeyObject, X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { spkiFromParsedCertificate } from '@trustlink/protocol';
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
  /**
   * Self-signed, and its own key verifies it: proves the key, nothing more. `key` is that key
   * as OpenSSL decoded it from `spki` when it parsed the certificate (reused, not decoded again).
   */
  | { kind: 'bootstrap'; der: Buffer; spki: Buffer; key: KeyObject }
  /** Anything else: perhaps a factory certificate, with the intermediates the client sent. */
  | { kind: 'foreign'; der: Buffer; intermediates: Buffer[] };

/**
 * What authentication reads of a request: its headers and its connection. A Fastify request
 * is one; so is `{ headers, raw: message }` for a Node request (the check-in's direct path).
 */
export interface DeviceRequest {
  headers: IncomingHttpHeaders;
  raw: { socket: Socket };
}

/** A device request that authenticated with a device certificate or a bearer session. */
export interface AuthenticatedDevice {
  device: Device;
  via: 'tls' | 'bearer';
  /** Id of the device certificate presented (TLS only). */
  certId?: string;
  /**
   * With `withUpdate`: the id of the update waiting for the device (null: none), read in the
   * same statement as the device's state (enrolment-hooks.ts).
   */
  waitingUpdateId?: string | null;
}

export interface DeviceAuthDeps {
  caRepo: Pick<CaRepo, 'list'>;
  lifecycle: Pick<DeviceLifecycleRepo, 'findByCertificate' | 'findByCertificateAlongside'>;
  sessions: Pick<DeviceSessionService, 'resolveWithDevice' | 'resolveWithDeviceAlongside'>;
  connections: Pick<DeviceConnections, 'track'>;
  audit: DeviceAudit;
  now?: () => Date;
  /** Presented chains remembered as judged (10,000). */
  judgedMax?: number;
}

const CA_CACHE_MS = 60_000;
/** Presented chains judged to be device certificates, remembered across connections. */
const JUDGED_MAX = 10_000;
/** Longest chain a client's certificate is followed through (leaf and intermediates). */
const CHAIN_MAX = 9;
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
  const judgedMax = deps.judgedMax ?? JUDGED_MAX;
  const byConnection = new WeakMap<TLSSocket, Promise<PeerCredential>>();
  const cas = new Map<string, { at: number; list: { id: string; x: X509Certificate }[] }>();
  /**
   * Device certificates already judged ours, keyed by the instance and the SHA-256 of every
   * certificate the client presented (leaf and intermediates, in order), so a device opening
   * a new connection (the next check-in without keep-alive, the next range of a download)
   * skips the parse and the signature check. Only what the presented bytes and the issuing CA
   * list decide is kept, and only while that same CA list is current: a reloaded or dropped
   * list (a new issuing CA) makes every entry judged against the old one stale. Whether the
   * certificate and its device are still valid is read on every request as before, so a
   * revocation is seen on the very next request, on every replica. Least recently used go
   * first once it is full.
   */
  const judged = new Map<string, { list: object; credential: PeerCredential }>();

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
    return (await judge(instanceId, der, intermediates)).credential;
  }

  /** The classification, and for a device certificate the CA list it was judged against. */
  async function judge(
    instanceId: string,
    der: Buffer,
    intermediates: Buffer[],
  ): Promise<{ credential: PeerCredential; list?: object }> {
    let list: object | undefined;
    const credential = await judgeBytes(instanceId, der, intermediates, (l) => (list = l));
    return { credential, list };
  }

  async function judgeBytes(
    instanceId: string,
    der: Buffer,
    intermediates: Buffer[],
    usedList: (list: object) => void,
  ): Promise<PeerCredential> {
    const x = parseCertificate(der);
    if (!x) return { kind: 'foreign', der, intermediates };
    for (const fresh of [false, true]) {
      const list = await issuingCas(instanceId, fresh);
      const issuer = list.find((c) => c.x.subject === x.issuer);
      if (issuer) {
        if (signedBy(x, issuer.x)) {
          usedList(list);
          return { kind: 'device-certificate', issuerId: issuer.id, serial: serialOf(x), der };
        }
        break;
      }
    }
    if (isSelfSigned(x)) {
      // Parsed in full just above: only the SubjectPublicKeyInfo's bytes are sliced out.
      const spki = spkiFromParsedCertificate(der);
      if (spki.ok) return { kind: 'bootstrap', der, spki: spki.spki, key: x.publicKey };
    }
    return { kind: 'foreign', der, intermediates };
  }

  /**
   * The certificate the client presented and the intermediates it sent, as Node links them.
   * Never call socket.getPeerX509Certificate() before this: on Node 20 it takes the
   * intermediates out of the connection's peer chain, so this would see the leaf alone (what
   * broke factory-certificate enrolment through an intermediate in an earlier version).
   */
  function presentedChain(socket: TLSSocket): DetailedPeerCertificate[] {
    const leaf = socket.getPeerCertificate(true);
    if (!leaf?.raw) return [];
    const chain = [leaf];
    // A self-link (or a loop) ends the chain.
    let link = leaf.issuerCertificate;
    while (link?.raw && chain.length < CHAIN_MAX) {
      const fp = link.fingerprint256;
      if (chain.some((c) => c.fingerprint256 === fp)) break;
      chain.push(link);
      link = link.issuerCertificate;
    }
    return chain;
  }

  async function classify(socket: TLSSocket, instanceId: string): Promise<PeerCredential> {
    const chain = presentedChain(socket);
    if (chain.length === 0) return { kind: 'none' };
    const key = `${instanceId}\n${chain.map((c) => c.fingerprint256).join(',')}`;
    const hit = judged.get(key);
    const current = cas.get(instanceId);
    if (hit && current && hit.list === current.list && Date.now() - current.at < CA_CACHE_MS) {
      // Most recently used last.
      judged.delete(key);
      judged.set(key, hit);
      return hit.credential;
    }
    const [leaf, ...rest] = chain.map((c) => Buffer.from(c.raw));
    const { credential, list } = await judge(instanceId, leaf!, rest);
    if (credential.kind === 'device-certificate' && list) {
      judged.delete(key);
      if (judged.size >= judgedMax) judged.delete(judged.keys().next().value!);
      judged.set(key, { list, credential });
    }
    return credential;
  }

  /** The TLS client certificate of the request's connection, classified once per connection. */
  function peer(req: DeviceRequest, instanceId: string): Promise<PeerCredential> {
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
   * that they have expired; `withUpdate` reads the device's waiting update in the same
   * statement (the check-in). Refusals are audited under `action` and thrown.
   */
  async function authenticate(
    req: DeviceRequest,
    ctx: DeviceRequestContext,
    action: string,
    opts: { allowExpired?: boolean; withUpdate?: boolean } = {},
  ): Promise<AuthenticatedDevice> {
    const { instanceId } = ctx;
    // Only a bearer token is a session; EST clients may send Basic credentials beside TLS.
    const auth = req.headers.authorization;
    let result: AuthenticatedDevice;
    if (auth !== undefined && /^Bearer /i.test(auth)) {
      const m = /^Bearer ([A-Za-z0-9._~-]{16,512})$/.exec(auth);
      // The session and its device's current state in one read (with the check-in's update).
      const live = !m
        ? undefined
        : opts.withUpdate
          ? await deps.sessions.resolveWithDeviceAlongside(instanceId, m[1]!)
          : await deps.sessions
              .resolveWithDevice(instanceId, m[1]!)
              .then((l) => l && { ...l, alongside: undefined });
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
      if (opts.withUpdate) result.waitingUpdateId = live.alongside;
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
      const found = opts.withUpdate
        ? await deps.lifecycle.findByCertificateAlongside(instanceId, p.issuerId, p.serial)
        : await deps.lifecycle
            .findByCertificate(instanceId, p.issuerId, p.serial)
            .then((f) => f && { ...f, alongside: undefined });
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
      if (opts.withUpdate) result.waitingUpdateId = found.alongside;
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
    /** Chains remembered as judged (for tests). */
    judgedSize: () => judged.size,
  };
}
export type DeviceAuth = ReturnType<typeof createDeviceAuth>;
