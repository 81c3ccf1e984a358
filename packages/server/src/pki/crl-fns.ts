import {
  TAG,
  bitString,
  enumerated,
  explicit,
  header,
  implicitPrimitive,
  integer,
  seq,
  tlv,
  unsignedIntegerBody,
  x509Time,
} from './der-fns.js';
import { extension } from './device-cert-template.js';

/**
 * RFC 5280 revocation reasons a device certificate may be revoked with. certificateHold is
 * left out on purpose: revocation here is final. cACompromise and aACompromise do not apply
 * to end-entity certificates.
 */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;
export const REVOCATION_REASON_NAMES = Object.keys(REVOCATION_REASONS) as [
  RevocationReason,
  ...RevocationReason[],
];

const OID_CRL_NUMBER = '2.5.29.20';
const OID_REASON_CODE = '2.5.29.21';
const OID_AKI = '2.5.29.35';

export interface CrlEntry {
  /** Lowercase hex of the serial's value. */
  serial: string;
  revokedAt: Date;
  reason: RevocationReason;
}

export interface CrlInput {
  /** DER of the issuer's Name, copied from its certificate. */
  issuerNameDer: Buffer;
  authorityKeyId: Buffer;
  /** DER AlgorithmIdentifier of the issuer's signature. */
  signatureAlgorithmDer: Buffer;
  number: number;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: CrlEntry[];
}

function entry(e: CrlEntry): Buffer {
  const parts = [
    tlv(TAG.INTEGER, unsignedIntegerBody(Buffer.from(e.serial, 'hex'))),
    x509Time(e.revokedAt),
  ];
  // RFC 5280 5.3.1: the unspecified reason SHOULD be left out.
  if (e.reason !== 'unspecified') {
    parts.push(seq(extension(OID_REASON_CODE, false, enumerated(REVOCATION_REASONS[e.reason]))));
  }
  return seq(...parts);
}

/** The DER TBSCertList of a v2 CRL with the AKI and CRL number extensions. */
export function crlTbs(input: CrlInput): Buffer {
  const parts = [
    integer(1),
    input.signatureAlgorithmDer,
    input.issuerNameDer,
    x509Time(input.thisUpdate),
    x509Time(input.nextUpdate),
  ];
  if (input.entries.length) parts.push(seq(...input.entries.map(entry)));
  parts.push(
    explicit(
      0,
      seq(
        extension(OID_AKI, false, seq(implicitPrimitive(0, input.authorityKeyId))),
        extension(OID_CRL_NUMBER, false, integer(input.number)),
      ),
    ),
  );
  return seq(...parts);
}

/** Wraps a signed TBSCertList (or TBSCertificate) with its algorithm and signature. */
export function signedStructure(
  tbs: Buffer,
  signatureAlgorithmDer: Buffer,
  signature: Buffer,
): Buffer {
  const sig = bitString(signature);
  return Buffer.concat([
    header(TAG.SEQUENCE, tbs.length + signatureAlgorithmDer.length + sig.length),
    tbs,
    signatureAlgorithmDer,
    sig,
  ]);
}
