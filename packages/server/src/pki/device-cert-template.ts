import { createHash } from 'node:crypto';
import type { SignatureScheme } from '../keystore/keystore-types.js';
import {
  TAG,
  bitString,
  derBoolean,
  explicit,
  header,
  implicitPrimitive,
  octetString,
  oid,
  seq,
  tlv,
  x509Time,
} from './der-fns.js';
import { signatureAlgorithmDer } from './signature-algorithms.js';

/**
 * The fast path of device certificate issuance. Everything in a device certificate except
 * the serial, the validity, the device ID, the public key and its key id is the same for
 * every certificate of an issuing CA, so it is encoded once per issuer here; issuing then
 * concatenates a handful of buffers. certificate-builder.ts (general ASN.1) is the reference
 * this must equal byte for byte: see device-cert-template.test.ts.
 */

export const OID_EXT = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  cRLDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;
export const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const OID_OCSP = '1.3.6.1.5.5.7.48.1';
export const OID_CA_ISSUERS = '1.3.6.1.5.5.7.48.2';
const OID_COMMON_NAME = '2.5.4.3';

/** What is fixed per issuing CA. */
export interface IssuerProfile {
  /** The DER of the issuer's subject Name, copied from its certificate (never re-encoded). */
  issuerNameDer: Buffer;
  /** The issuer's subject key identifier. */
  authorityKeyId: Buffer;
  /** How the issuer signs (follows from its key type). */
  scheme: SignatureScheme;
  crlUrl: string;
  ocspUrl: string;
  /** Where the issuer's certificate can be fetched (AIA caIssuers). */
  caIssuersUrl: string;
}

/** What changes per certificate. */
export interface DeviceCertFields {
  /** Minimal INTEGER contents of a positive serial. */
  serial: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** 64 lowercase hex characters. */
  deviceId: string;
  spkiDer: Buffer;
  /** Contents of the subjectPublicKey BIT STRING (for the subject key id). */
  publicKeyBits: Buffer;
}

export interface DeviceCertTemplate {
  readonly profile: IssuerProfile;
  /** The DER TBSCertificate for these fields. */
  tbs(fields: DeviceCertFields): Buffer;
  /** The DER Certificate from a TBSCertificate and its signature. */
  certificate(tbs: Buffer, signature: Buffer): Buffer;
}

/** An extension: SEQUENCE { extnID, critical (only when TRUE), extnValue OCTET STRING }. */
export function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [derBoolean(true)] : []), octetString(value));
}

const uri = (u: string) => implicitPrimitive(6, Buffer.from(u, 'ascii'));

/** The extensions of a device certificate, minus the subject key id, as DER. */
export function deviceExtensions(profile: IssuerProfile): { beforeSki: Buffer; afterSki: Buffer } {
  const beforeSki = Buffer.concat([
    extension(OID_EXT.basicConstraints, true, seq()),
    extension(OID_EXT.keyUsage, true, bitString(Buffer.from([0x80]), 7)),
    extension(OID_EXT.extKeyUsage, false, seq(oid(OID_CLIENT_AUTH))),
  ]);
  const afterSki = Buffer.concat([
    extension(
      OID_EXT.authorityKeyIdentifier,
      false,
      seq(implicitPrimitive(0, profile.authorityKeyId)),
    ),
    extension(
      OID_EXT.cRLDistributionPoints,
      false,
      seq(seq(explicit(0, explicit(0, uri(profile.crlUrl))))),
    ),
    extension(
      OID_EXT.authorityInfoAccess,
      false,
      seq(
        seq(oid(OID_OCSP), uri(profile.ocspUrl)),
        seq(oid(OID_CA_ISSUERS), uri(profile.caIssuersUrl)),
      ),
    ),
  ]);
  return { beforeSki, afterSki };
}

/** Prepares the constant parts of an issuer's device certificates once. */
export function prepareDeviceCertTemplate(profile: IssuerProfile): DeviceCertTemplate {
  const version = explicit(0, Buffer.from([TAG.INTEGER, 1, 2]));
  const algId = signatureAlgorithmDer(profile.scheme);
  const afterSerial = Buffer.concat([algId, profile.issuerNameDer]);
  // subject: SEQUENCE { SET { SEQUENCE { id-at-commonName, PrintableString(64) } } }, as the
  // general builder encodes hex names.
  const cnOid = oid(OID_COMMON_NAME);
  const atvLen = cnOid.length + 2 + 64;
  const subjectPrefix = Buffer.concat([
    header(TAG.SEQUENCE, atvLen + 4),
    header(TAG.SET, atvLen + 2),
    header(TAG.SEQUENCE, atvLen),
    cnOid,
    header(TAG.PRINTABLE_STRING, 64),
  ]);
  const { beforeSki, afterSki } = deviceExtensions(profile);
  const skiOid = oid(OID_EXT.subjectKeyIdentifier);
  const skiExtLen = skiOid.length + 2 + 2 + 20;
  const skiHead = Buffer.concat([
    header(TAG.SEQUENCE, skiExtLen),
    skiOid,
    header(TAG.OCTET_STRING, 22),
    header(TAG.OCTET_STRING, 20),
  ]);
  const extsLen = beforeSki.length + skiHead.length + 20 + afterSki.length;
  const extsHead = Buffer.concat([
    header(0xa3, extsLen + header(TAG.SEQUENCE, extsLen).length),
    header(TAG.SEQUENCE, extsLen),
  ]);
  const extsFixedLen = extsHead.length + beforeSki.length + skiHead.length + 20 + afterSki.length;
  const sigAlgLen = algId.length;

  return {
    profile,
    tbs(f) {
      const serial = tlv(TAG.INTEGER, f.serial);
      const validity = seq(x509Time(f.notBefore), x509Time(f.notAfter));
      const ski = createHash('sha1').update(f.publicKeyBits).digest();
      const bodyLen =
        version.length +
        serial.length +
        afterSerial.length +
        validity.length +
        subjectPrefix.length +
        64 +
        f.spkiDer.length +
        extsFixedLen;
      return Buffer.concat([
        header(TAG.SEQUENCE, bodyLen),
        version,
        serial,
        afterSerial,
        validity,
        subjectPrefix,
        Buffer.from(f.deviceId, 'latin1'),
        f.spkiDer,
        extsHead,
        beforeSki,
        skiHead,
        ski,
        afterSki,
      ]);
    },
    certificate(tbs, signature) {
      const sigLen = signature.length + 1;
      const sigHead = header(TAG.BIT_STRING, sigLen);
      const bodyLen = tbs.length + sigAlgLen + sigHead.length + sigLen;
      return Buffer.concat([
        header(TAG.SEQUENCE, bodyLen),
        tbs,
        algId,
        sigHead,
        Buffer.from([0]),
        signature,
      ]);
    },
  };
}
