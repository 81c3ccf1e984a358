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

/** Length of an RFC 5280 Time TLV: UTCTime through 2049, GeneralizedTime from 2050. */
function timeLength(d: Date): number {
  const y = d.getUTCFullYear();
  return y >= 1950 && y < 2050 ? 15 : 17;
}

const digit2 = (out: Buffer, o: number, n: number) => {
  out[o] = 0x30 + Math.floor(n / 10);
  out[o + 1] = 0x30 + (n % 10);
  return o + 2;
};

/** Writes a Time TLV (as x509Time encodes it) at `o`; returns the offset after it. */
function writeTime(out: Buffer, o: number, d: Date): number {
  const y = d.getUTCFullYear();
  const utc = y >= 1950 && y < 2050;
  out[o++] = utc ? TAG.UTC_TIME : TAG.GENERALIZED_TIME;
  out[o++] = utc ? 13 : 15;
  if (!utc) o = digit2(out, o, Math.floor(y / 100));
  o = digit2(out, o, y % 100);
  o = digit2(out, o, d.getUTCMonth() + 1);
  o = digit2(out, o, d.getUTCDate());
  o = digit2(out, o, d.getUTCHours());
  o = digit2(out, o, d.getUTCMinutes());
  o = digit2(out, o, d.getUTCSeconds());
  out[o++] = 0x5a; // Z
  return o;
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
      // One allocation, written in place: the constant parts are copied, the variable ones
      // encoded straight into the buffer (this is the hot path of issuance).
      const nbLen = timeLength(f.notBefore);
      const naLen = timeLength(f.notAfter);
      const validityLen = nbLen + naLen;
      const bodyLen =
        version.length +
        2 +
        f.serial.length +
        afterSerial.length +
        2 +
        validityLen +
        subjectPrefix.length +
        64 +
        f.spkiDer.length +
        extsFixedLen;
      const head = header(TAG.SEQUENCE, bodyLen);
      const out = Buffer.allocUnsafe(head.length + bodyLen);
      let o = head.copy(out, 0);
      o += version.copy(out, o);
      out[o++] = TAG.INTEGER;
      out[o++] = f.serial.length;
      o += f.serial.copy(out, o);
      o += afterSerial.copy(out, o);
      out[o++] = TAG.SEQUENCE;
      out[o++] = validityLen;
      o = writeTime(out, o, f.notBefore);
      o = writeTime(out, o, f.notAfter);
      o += subjectPrefix.copy(out, o);
      o += out.write(f.deviceId, o, 64, 'latin1');
      o += f.spkiDer.copy(out, o);
      o += extsHead.copy(out, o);
      o += beforeSki.copy(out, o);
      o += skiHead.copy(out, o);
      o += createHash('sha1').update(f.publicKeyBits).digest().copy(out, o);
      afterSki.copy(out, o);
      return out;
    },
    certificate(tbs, signature) {
      const sigLen = signature.length + 1;
      const sigHead = header(TAG.BIT_STRING, sigLen);
      const bodyLen = tbs.length + sigAlgLen + sigHead.length + sigLen;
      const head = header(TAG.SEQUENCE, bodyLen);
      const out = Buffer.allocUnsafe(head.length + bodyLen);
      let o = head.copy(out, 0);
      o += tbs.copy(out, o);
      o += algId.copy(out, o);
      o += sigHead.copy(out, o);
      out[o++] = 0;
      signature.copy(out, o);
      return out;
    },
  };
}
