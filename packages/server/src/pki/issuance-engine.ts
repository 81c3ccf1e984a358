import { randomBytes } from 'node:crypto';
import { defaultScheme } from '../keystore/key-algorithms.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import {
  BadRequestError,
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
} from '../lib/errors.js';
import type { CaCertificateRecord, CaRepo } from './ca-repo.js';
import { subjectKeyId } from './certificate-builder.js';
import { MAX_CSR_BYTES, parseCsr, type ParsedCsr } from './csr-fns.js';
import { csrSignatureVerified, verifyCsrSignature } from './csr-verify.js';
import { unsignedIntegerBody } from './der-fns.js';
import { issuerNameDer } from './cert-fns.js';
import { prepareDeviceCertTemplate, type DeviceCertTemplate } from './device-cert-template.js';
import type { DeviceKeyType } from './device-key-fns.js';
import { BACKDATE_MS } from './instance-pki.js';
import type { PkiUrls } from './pki-urls.js';

/** The policy's part in issuance (policies themselves belong to the enrolment domain). */
export interface IssueInput {
  instanceId: string;
  /** An issuing CA; when it has been renewed, its newest generation issues. */
  issuingCaId: string;
  csrDer: Buffer;
  /** The device ID the caller expects; must be the CSR key's ID unless `operationalKey`. */
  deviceId: string;
  /**
   * The CSR certifies a separate operational key (the policy allows one; the caller has proven
   * the identity key): the certificate names `deviceId` but carries the CSR's key.
   */
  operationalKey?: boolean;
  /** Requested lifetime; the certificate never outlives its issuer. */
  lifetimeSeconds: number;
  /** Accepted device key types; P-256 only when absent. */
  acceptedKeyTypes?: readonly DeviceKeyType[];
  /**
   * The issuer, prepared by `issuer()` beforehand: issuing inside a caller's transaction then
   * needs no read of its own (on SQLite such a read would wait for that very transaction).
   */
  prepared?: IssuerContext;
  /**
   * `csrDer` as the caller already parsed it and verified its signature (enrolment's CSR
   * check): not parsed and verified a second time. The request's rules below are still applied
   * to it; a parsed CSR whose signature was not verified is ignored.
   */
  checkedCsr?: ParsedCsr;
}

export interface BuiltCertificate {
  der: Buffer;
  /** Lowercase hex of the serial's value. */
  serial: string;
  deviceId: string;
  issuerId: string;
  notBefore: Date;
  notAfter: Date;
}

/** An issuing CA ready to issue: its row, its prepared template, its bound signer. */
export interface IssuerContext {
  ca: CaCertificateRecord;
  template: DeviceCertTemplate;
  sign(tbs: Buffer): Promise<Buffer>;
}

export interface IssuanceEngineDeps {
  caRepo: CaRepo;
  keystore: KeyStore;
  urls: PkiUrls;
  now?: () => Date;
  /** How long a prepared issuer is reused before it is looked up again. */
  issuerCacheMs?: number;
}

const MIN_LIFETIME_SECONDS = 60;
const MAX_LIFETIME_SECONDS = 100 * 366 * 24 * 3600;

/** 128 random bits as a positive INTEGER (a leading zero octet is added when the top bit is set). */
export function randomDeviceSerial(): Buffer {
  return unsignedIntegerBody(randomBytes(16));
}

/** The value of a serial's INTEGER contents as lowercase hex without leading zero bytes. */
export function serialHex(body: Buffer): string {
  let i = 0;
  while (i < body.length - 1 && body[i] === 0) i++;
  return body.subarray(i).toString('hex');
}

/**
 * Device certificates from PKCS#10 requests: checks the request (size, structure, canonical
 * key, accepted key type, device ID, subject, signature) and builds and signs the
 * certificate through the issuer's prepared template. Storing is the caller's part.
 */
export function createIssuanceEngine(deps: IssuanceEngineDeps) {
  const { caRepo, keystore, urls } = deps;
  const now = deps.now ?? (() => new Date());
  const cacheMs = deps.issuerCacheMs ?? 30_000;
  const cache = new Map<
    string,
    { until: number; ctx: Promise<IssuerContext>; ready?: IssuerContext }
  >();

  async function load(instanceId: string, caId: string): Promise<IssuerContext> {
    let ca = await caRepo.find(instanceId, caId);
    if (!ca || ca.kind !== 'issuing') throw new NotFoundError(`issuing CA ${caId} not found`);
    if (ca.renewedBy) ca = (await caRepo.newestOfLineage(instanceId, ca.lineageId ?? ca.id)) ?? ca;
    const key = await keystore.publicKey(instanceId, ca.keyId);
    const scheme = defaultScheme(key.algorithm);
    const template = prepareDeviceCertTemplate({
      issuerNameDer: issuerNameDer(ca.der),
      authorityKeyId: subjectKeyId(key.publicKeyDer),
      scheme,
      crlUrl: urls.crl(instanceId, ca.id),
      ocspUrl: urls.ocsp(instanceId),
      caIssuersUrl: urls.caCertificate(instanceId, ca.id),
    });
    const sign = await keystore.signer(instanceId, ca.keyId, scheme);
    return { ca, template, sign };
  }

  /** The prepared issuer for an issuing CA id (cached briefly; see `forget`). */
  function issuer(instanceId: string, caId: string): Promise<IssuerContext> {
    const k = `${instanceId}/${caId}`;
    const t = Date.now();
    const hit = cache.get(k);
    if (hit && hit.until > t) return hit.ctx;
    const ctx = load(instanceId, caId);
    const entry: { until: number; ctx: Promise<IssuerContext>; ready?: IssuerContext } = {
      until: t + cacheMs,
      ctx,
    };
    cache.set(k, entry);
    ctx.then(
      (ready) => void (entry.ready = ready),
      () => cache.delete(k),
    );
    return ctx;
  }

  /** The prepared issuer when it is cached and fresh, without a promise (hot path). */
  function readyIssuer(instanceId: string, caId: string): IssuerContext | undefined {
    const hit = cache.get(`${instanceId}/${caId}`);
    return hit && hit.until > Date.now() ? hit.ready : undefined;
  }

  async function build(input: IssueInput): Promise<BuiltCertificate> {
    if (input.csrDer.length > MAX_CSR_BYTES) {
      throw new PayloadTooLargeError(
        `CSR is ${input.csrDer.length} bytes; at most ${MAX_CSR_BYTES} are accepted`,
      );
    }
    if (
      !Number.isInteger(input.lifetimeSeconds) ||
      input.lifetimeSeconds < MIN_LIFETIME_SECONDS ||
      input.lifetimeSeconds > MAX_LIFETIME_SECONDS
    ) {
      throw new BadRequestError(
        `lifetime must be a whole number of seconds from ${MIN_LIFETIME_SECONDS} to ${MAX_LIFETIME_SECONDS}`,
      );
    }
    let ready = input.prepared ?? readyIssuer(input.instanceId, input.issuingCaId);
    const pending = ready ? undefined : issuer(input.instanceId, input.issuingCaId);
    pending?.catch(() => undefined); // awaited below; a CSR error may be thrown first
    const checked =
      input.checkedCsr && csrSignatureVerified(input.checkedCsr) ? input.checkedCsr : undefined;
    const parsed = checked ? { ok: true as const, csr: checked } : parseCsr(input.csrDer);
    if (!parsed.ok) throw new BadRequestError(parsed.reason, undefined, 'csr-invalid');
    const csr = parsed.csr;
    const accepted = input.acceptedKeyTypes ?? ['P-256'];
    if (!accepted.includes(csr.key.type)) {
      throw new BadRequestError(
        `device key type ${csr.key.type} is not accepted here (accepted: ${accepted.join(', ')})`,
        undefined,
        'key-type-not-accepted',
      );
    }
    if (!input.operationalKey && csr.key.deviceId !== input.deviceId) {
      throw new BadRequestError(
        "the CSR's public key does not belong to this device ID",
        undefined,
        'device-id-mismatch',
      );
    }
    if (csr.subjectCommonNames.some((cn) => cn !== input.deviceId)) {
      throw new BadRequestError(
        'the CSR subject CN must be the device ID (or absent)',
        undefined,
        'csr-subject-mismatch',
      );
    }
    if (!(await verifyCsrSignature(csr))) {
      throw new BadRequestError(
        'the CSR signature does not verify with its public key',
        undefined,
        'csr-signature-invalid',
      );
    }
    ready ??= await pending!;
    const { ca, template, sign } = ready;
    const t = now();
    const caNotAfter = Date.parse(ca.notAfter);
    if (caNotAfter <= t.getTime()) {
      throw new ConflictError(`issuing CA ${ca.id} has expired`, 'issuer-expired');
    }
    const secs = Math.floor(t.getTime() / 1000) * 1000;
    const notBefore = new Date(secs - BACKDATE_MS);
    const notAfter = new Date(Math.min(secs + input.lifetimeSeconds * 1000, caNotAfter));
    const serial = randomDeviceSerial();
    const tbs = template.tbs({
      serial,
      notBefore,
      notAfter,
      deviceId: input.deviceId,
      spkiDer: csr.key.spkiDer,
      publicKeyBits: csr.key.publicKeyBits,
    });
    const der = template.certificate(tbs, await sign(tbs));
    return {
      der,
      serial: serialHex(serial),
      deviceId: input.deviceId,
      issuerId: ca.id,
      notBefore,
      notAfter,
    };
  }

  return {
    build,
    issuer,
    /** Drops prepared issuers (after a renewal), for one instance or all. */
    forget(instanceId?: string) {
      for (const k of cache.keys())
        if (!instanceId || k.startsWith(`${instanceId}/`)) cache.delete(k);
    },
  };
}
export type IssuanceEngine = ReturnType<typeof createIssuanceEngine>;
