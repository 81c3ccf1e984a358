import {
  DerError,
  TAG,
  bodyOf,
  bytesOf,
  children,
  enumerated,
  expectTag,
  explicit,
  generalizedTime,
  integerBody,
  octetString,
  oid,
  oidOf,
  readRoot,
  seq,
  tlv,
} from './der-fns.js';
import { signedStructure, REVOCATION_REASONS, type RevocationReason } from './crl-fns.js';

/**
 * OCSP (RFC 6960) in the lightweight profile of RFC 5019: one certificate per request,
 * responses signed by the issuing CA and identified by its key hash, no nonce (so a response
 * can be signed once and served until the status changes).
 */

export const OCSP_HASHES = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
} as const;
export type OcspHash = (typeof OCSP_HASHES)[keyof typeof OCSP_HASHES];

/** Unsigned response statuses (RFC 6960 4.2.1). */
export const OCSP_STATUS = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  unauthorized: 6,
} as const;

const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';

/** The one certificate a request asks about. */
export interface OcspCertId {
  /** The CertID exactly as requested; the response echoes it. */
  der: Buffer;
  hash: OcspHash;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  /** Lowercase hex of the serial's value. */
  serial: string;
}

export type OcspRequestParse = { ok: true; certId: OcspCertId } | { ok: false; reason: string };

/** Largest OCSP request accepted (one CertID with a nonce is about 120 bytes). */
export const MAX_OCSP_REQUEST_BYTES = 4096;

/** Parses an OCSPRequest that asks about exactly one certificate. */
export function parseOcspRequest(der: Buffer): OcspRequestParse {
  if (der.length > MAX_OCSP_REQUEST_BYTES) return { ok: false, reason: 'request too large' };
  try {
    const root = readRoot(der);
    const [tbs] = children(der, expectTag(root, TAG.SEQUENCE, 'OCSPRequest'));
    if (!tbs || tbs.tag !== TAG.SEQUENCE) throw new DerError('not an OCSP request');
    const list = children(der, tbs).find((c) => c.tag === TAG.SEQUENCE);
    if (!list) throw new DerError('no request list');
    const requests = children(der, list);
    if (requests.length !== 1)
      throw new DerError('exactly one certificate per request is supported');
    const [certId] = children(der, requests[0]!);
    if (!certId || certId.tag !== TAG.SEQUENCE) throw new DerError('no CertID');
    const [alg, nameHash, keyHash, serial, extra] = children(der, certId);
    if (!alg || !nameHash || !keyHash || !serial || extra) throw new DerError('bad CertID');
    const [algOid] = children(der, alg);
    const hash = OCSP_HASHES[oidOf(der, algOid!) as keyof typeof OCSP_HASHES];
    if (!hash) throw new DerError('unsupported CertID hash algorithm');
    const sb = integerBody(der, serial);
    let i = 0;
    while (i < sb.length - 1 && sb[i] === 0) i++;
    return {
      ok: true,
      certId: {
        der: Buffer.from(bytesOf(der, certId)),
        hash,
        issuerNameHash: Buffer.from(bodyOf(der, nameHash)),
        issuerKeyHash: Buffer.from(bodyOf(der, keyHash)),
        serial: sb.subarray(i).toString('hex'),
      },
    };
  } catch (err) {
    if (err instanceof DerError) return { ok: false, reason: err.message };
    throw err;
  }
}

/** An OCSPResponse without a body, for every status but successful. */
export function ocspErrorResponse(status: Exclude<keyof typeof OCSP_STATUS, 'successful'>): Buffer {
  return seq(enumerated(OCSP_STATUS[status]));
}

export type CertStatus =
  | { status: 'good' }
  | { status: 'unknown' }
  | { status: 'revoked'; revokedAt: Date; reason: RevocationReason };

export interface SingleResponseInput {
  certId: OcspCertId;
  /** SHA-1 of the responder's public key bits (ResponderID byKey). */
  responderKeyHash: Buffer;
  status: CertStatus;
  thisUpdate: Date;
  nextUpdate: Date;
}

function certStatus(s: CertStatus): Buffer {
  if (s.status === 'good') return Buffer.from([0x80, 0]);
  if (s.status === 'unknown') return Buffer.from([0x82, 0]);
  const parts = [generalizedTime(s.revokedAt)];
  if (s.reason !== 'unspecified') parts.push(explicit(0, enumerated(REVOCATION_REASONS[s.reason])));
  return tlv(0xa1, ...parts);
}

/** The DER ResponseData to sign. producedAt is thisUpdate. */
export function ocspResponseData(input: SingleResponseInput): Buffer {
  return seq(
    explicit(2, octetString(input.responderKeyHash)),
    generalizedTime(input.thisUpdate),
    seq(
      seq(
        input.certId.der,
        certStatus(input.status),
        generalizedTime(input.thisUpdate),
        explicit(0, generalizedTime(input.nextUpdate)),
      ),
    ),
  );
}

/** A successful OCSPResponse around a signed ResponseData. */
export function ocspSuccessResponse(
  responseData: Buffer,
  signatureAlgorithmDer: Buffer,
  signature: Buffer,
): Buffer {
  const basic = signedStructure(responseData, signatureAlgorithmDer, signature);
  return seq(
    enumerated(OCSP_STATUS.successful),
    explicit(0, seq(oid(OID_OCSP_BASIC), octetString(basic))),
  );
}
