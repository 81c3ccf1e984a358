import 'reflect-metadata';
import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { Name as X509Name } from '@peculiar/x509';
import type { SignatureScheme } from '../keystore/keystore-types.js';
import { signatureAlgorithmIdentifier } from './signature-algorithms.js';

/** Signs the DER of a TBSCertificate; the key store does it, the builder never sees the key. */
export type TbsSigner = { scheme: SignatureScheme; sign(tbs: Buffer): Promise<Buffer> };

export interface CertificateTemplate {
  serial: Buffer;
  issuer: string | Name;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  subjectPublicKeyDer: Buffer;
  /** Subject key id of the issuer (absent for a self-signed root). */
  authorityKeyId?: Buffer;
  ca?: { pathLength?: number };
  keyUsage: KeyUsageFlags;
  extendedKeyUsage?: string[];
  subjectAltNames?: { dns?: string[]; ip?: string[] };
  extraExtensions?: Extension[];
}

/** A random positive serial of 16 bytes (RFC 5280 allows up to 20; the top bit is cleared). */
export function randomSerial(): Buffer {
  const s = randomBytes(16);
  s[0] = (s[0]! & 0x7f) | 0x01;
  return s;
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING contents. */
export function subjectKeyId(spkiDer: Buffer): Buffer {
  const spki = AsnConvert.parse(spkiDer, SubjectPublicKeyInfo);
  return createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest();
}

/** Parses an RFC 4514 string ("CN=x, O=y") into an ASN.1 Name. */
export function parseName(dn: string): Name {
  return AsnConvert.parse(new X509Name(dn).toArrayBuffer(), Name);
}

function ext(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({
    extnID,
    critical,
    extnValue: new OctetString(AsnConvert.serialize(value)),
  });
}

/** Builds and signs an X.509 v3 certificate; returns its DER. */
export async function buildCertificate(
  tpl: CertificateTemplate,
  signer: TbsSigner,
): Promise<Buffer> {
  const spki = AsnConvert.parse(tpl.subjectPublicKeyDer, SubjectPublicKeyInfo);
  const ski = subjectKeyId(tpl.subjectPublicKeyDer);
  const extensions: Extension[] = [];
  if (tpl.ca) {
    extensions.push(
      ext(
        id_ce_basicConstraints,
        true,
        new BasicConstraints({ cA: true, pathLenConstraint: tpl.ca.pathLength }),
      ),
    );
  } else {
    extensions.push(ext(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })));
  }
  extensions.push(ext(id_ce_keyUsage, true, new KeyUsage(tpl.keyUsage)));
  if (tpl.extendedKeyUsage?.length) {
    extensions.push(ext(id_ce_extKeyUsage, false, new ExtendedKeyUsage(tpl.extendedKeyUsage)));
  }
  extensions.push(ext(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(ski)));
  if (tpl.authorityKeyId) {
    extensions.push(
      ext(
        id_ce_authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(tpl.authorityKeyId) }),
      ),
    );
  }
  const san = [
    ...(tpl.subjectAltNames?.dns ?? []).map((dNSName) => new GeneralName({ dNSName })),
    ...(tpl.subjectAltNames?.ip ?? []).map((iPAddress) => new GeneralName({ iPAddress })),
  ];
  if (san.length)
    extensions.push(ext(id_ce_subjectAltName, false, new SubjectAlternativeName(san)));
  extensions.push(...(tpl.extraExtensions ?? []));

  const signature = signatureAlgorithmIdentifier(signer.scheme);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array(tpl.serial).buffer,
    signature,
    issuer: typeof tpl.issuer === 'string' ? parseName(tpl.issuer) : tpl.issuer,
    validity: new Validity({ notBefore: tpl.notBefore, notAfter: tpl.notAfter }),
    subject: parseName(tpl.subject),
    subjectPublicKeyInfo: spki,
    extensions: new Extensions(extensions),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const sig = await signer.sign(tbsDer);
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: signature,
    signatureValue: new Uint8Array(sig).buffer,
  });
  return Buffer.from(AsnConvert.serialize(cert));
}

/** The subject Name of a certificate, for issuing under it. */
export function subjectNameOf(certDer: Buffer): Name {
  return AsnConvert.parse(certDer, Certificate).tbsCertificate.subject;
}

export { KeyUsageFlags };

/** PEM armour for DER certificates. */
export function toPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
