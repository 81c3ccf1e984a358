import { createHash } from 'node:crypto';
import { defaultScheme } from '../keystore/key-algorithms.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import type { CaRepo } from './ca-repo.js';
import { issuerNameDer, subjectPublicKeyBits } from './cert-fns.js';
import type { RevocationReason } from './crl-fns.js';
import type { DeviceCertRepo } from './device-cert-repo.js';
import {
  OCSP_HASHES,
  ocspErrorResponse,
  ocspResponseData,
  ocspSuccessResponse,
  parseOcspRequest,
  type CertStatus,
  type OcspCertId,
  type OcspHash,
} from './ocsp-fns.js';
import type { RevocationRepo } from './revocation-repo.js';
import { signatureAlgorithmDer } from './signature-algorithms.js';

export interface OcspServiceDeps {
  caRepo: CaRepo;
  certs: DeviceCertRepo;
  revocations: RevocationRepo;
  keystore: KeyStore;
  now?: () => Date;
  /** Validity of a response (thisUpdate to nextUpdate); it is re-signed at half of it. */
  validityMs?: number;
  /** New signatures per second allowed for serials we never issued (beyond: tryLater). */
  unknownPerSecond?: number;
}

/** What the HTTP layer sends: the DER, and the validity that drives the cache headers. */
export interface OcspAnswer {
  der: Buffer;
  thisUpdate?: Date;
  nextUpdate?: Date;
}

interface Issuer {
  id: string;
  keyId: string;
  keyHash: Buffer;
  hashes: Map<OcspHash, { name: Buffer; key: Buffer }>;
}

export const OCSP_VALIDITY_MS = 24 * 3600 * 1000;
const UNKNOWN_VALIDITY_MS = 3600 * 1000;
const UNKNOWN_CACHE_MAX = 10_000;
const ISSUERS_TTL_MS = 30_000;
const ISSUERS_MISS_REFRESH_MS = 2_000;

/**
 * OCSP responder (RFC 6960, RFC 5019 profile). Every response is signed by the issuing CA
 * and kept: responses for issued certificates in the database until the status changes or
 * half the validity has passed, "unknown" ones in a bounded memory cache. Signing for serials
 * we never issued is rate limited, so unauthenticated callers cannot make the key store sign
 * at will: the number of signatures is bounded by the certificates issued, not the requests.
 */
export function createOcspService(deps: OcspServiceDeps) {
  const { caRepo, certs, revocations, keystore } = deps;
  const now = deps.now ?? (() => new Date());
  const validityMs = deps.validityMs ?? OCSP_VALIDITY_MS;
  const unknownRate = deps.unknownPerSecond ?? 20;
  const issuers = new Map<string, { at: number; list: Promise<Issuer[]> }>();
  const unknown = new Map<string, OcspAnswer>();
  let bucket = { tokens: unknownRate * 5, at: Date.now() };
  let signatures = 0;

  async function loadIssuers(instanceId: string): Promise<Issuer[]> {
    const out: Issuer[] = [];
    for (const ca of await caRepo.list(instanceId, 'issuing')) {
      const name = issuerNameDer(ca.der);
      const bits = subjectPublicKeyBits(ca.der);
      const hashes = new Map<OcspHash, { name: Buffer; key: Buffer }>();
      for (const h of Object.values(OCSP_HASHES)) {
        hashes.set(h, {
          name: createHash(h).update(name).digest(),
          key: createHash(h).update(bits).digest(),
        });
      }
      out.push({ id: ca.id, keyId: ca.keyId, keyHash: hashes.get('sha1')!.key, hashes });
    }
    return out;
  }

  async function findIssuer(instanceId: string, certId: OcspCertId): Promise<Issuer | undefined> {
    const match = (list: Issuer[]) =>
      list.find((i) => {
        const h = i.hashes.get(certId.hash)!;
        return h.name.equals(certId.issuerNameHash) && h.key.equals(certId.issuerKeyHash);
      });
    const t = Date.now();
    let entry = issuers.get(instanceId);
    if (!entry || t - entry.at > ISSUERS_TTL_MS) {
      entry = { at: t, list: loadIssuers(instanceId) };
      issuers.set(instanceId, entry);
    }
    const found = match(await entry.list);
    if (found || t - entry.at < ISSUERS_MISS_REFRESH_MS) return found;
    // A CA created since the list was read: look again, at most every few seconds.
    entry = { at: t, list: loadIssuers(instanceId) };
    issuers.set(instanceId, entry);
    return match(await entry.list);
  }

  async function sign(
    instanceId: string,
    issuer: Issuer,
    certId: OcspCertId,
    status: CertStatus,
    ms: number,
  ) {
    const thisUpdate = new Date(Math.floor(now().getTime() / 1000) * 1000);
    const nextUpdate = new Date(thisUpdate.getTime() + ms);
    const data = ocspResponseData({
      certId,
      responderKeyHash: issuer.keyHash,
      status,
      thisUpdate,
      nextUpdate,
    });
    const key = await keystore.publicKey(instanceId, issuer.keyId);
    const scheme = defaultScheme(key.algorithm);
    const sig = await keystore.sign(instanceId, issuer.keyId, data, scheme);
    signatures++;
    return {
      der: ocspSuccessResponse(data, signatureAlgorithmDer(scheme), sig),
      thisUpdate,
      nextUpdate,
    };
  }

  function takeToken(): boolean {
    const t = Date.now();
    bucket = {
      tokens: Math.min(unknownRate * 5, bucket.tokens + ((t - bucket.at) / 1000) * unknownRate),
      at: t,
    };
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  const fresh = (a: { thisUpdate: Date | string; nextUpdate: Date | string }, t: number) => {
    const tu = new Date(a.thisUpdate).getTime();
    return t < tu + (new Date(a.nextUpdate).getTime() - tu) / 2;
  };

  async function statusOf(instanceId: string, issuerId: string, serial: string) {
    const row = await certs.statusBySerial(instanceId, issuerId, serial);
    if (!row) return undefined;
    const status: CertStatus =
      row.status === 'revoked'
        ? {
            status: 'revoked',
            revokedAt: new Date(row.revoked_at!),
            reason: (row.revocation_reason ?? 'unspecified') as RevocationReason,
          }
        : { status: 'good' };
    return status;
  }

  /** Answers one DER OCSPRequest for an instance. */
  async function respond(instanceId: string, requestDer: Buffer): Promise<OcspAnswer> {
    const parsed = parseOcspRequest(requestDer);
    if (!parsed.ok) return { der: ocspErrorResponse('malformedRequest') };
    const certId = parsed.certId;
    const issuer = await findIssuer(instanceId, certId);
    if (!issuer) return { der: ocspErrorResponse('unauthorized') };
    const t = now().getTime();
    const status = await statusOf(instanceId, issuer.id, certId.serial);
    if (!status) {
      const k = `${instanceId}/${issuer.id}/${certId.serial}/${certId.hash}`;
      const hit = unknown.get(k);
      if (hit && fresh(hit as { thisUpdate: Date; nextUpdate: Date }, t)) return hit;
      if (!takeToken()) return { der: ocspErrorResponse('tryLater') };
      const answer = await sign(
        instanceId,
        issuer,
        certId,
        { status: 'unknown' },
        UNKNOWN_VALIDITY_MS,
      );
      if (unknown.size >= UNKNOWN_CACHE_MAX) unknown.delete(unknown.keys().next().value!);
      unknown.set(k, answer);
      return answer;
    }
    const cached = await revocations.ocsp(instanceId, issuer.id, certId.serial, certId.hash);
    if (cached && fresh(cached, t)) {
      return {
        der: cached.der,
        thisUpdate: new Date(cached.thisUpdate),
        nextUpdate: new Date(cached.nextUpdate),
      };
    }
    const answer = await sign(instanceId, issuer, certId, status, validityMs);
    await revocations.saveOcsp(instanceId, issuer.id, certId.serial, certId.hash, {
      der: answer.der,
      thisUpdate: answer.thisUpdate.toISOString(),
      nextUpdate: answer.nextUpdate.toISOString(),
    });
    // A revocation may have committed while this response was signed; it dropped the cache
    // before our save, so check again and drop what we saved if the status moved.
    const after = await statusOf(instanceId, issuer.id, certId.serial);
    if (after?.status !== status.status) {
      await revocations.dropOcsp(instanceId, issuer.id, certId.serial);
    }
    return answer;
  }

  return {
    respond,
    /** How many responses this process has signed (tests prove the cache holds). */
    get signatures() {
      return signatures;
    },
    /** Forgets the issuer list of an instance (a new issuing CA was made here). */
    forgetIssuers(instanceId: string) {
      issuers.delete(instanceId);
    },
  };
}
export type OcspService = ReturnType<typeof createOcspService>;
