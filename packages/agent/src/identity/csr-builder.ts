import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
} from '@peculiar/asn1-x509';
import { NoIdentityKeyError } from '../keystore/key-store-errors.js';
import type { IdentityKeyStore, KeyType, SignatureScheme } from '../keystore/key-store-types.js';

const OID_COMMON_NAME = '2.5.4.3';
const SIGNATURE_OIDS: Record<SignatureScheme, string> = {
  'ecdsa-sha256': '1.2.840.10045.4.3.2',
  'ecdsa-sha384': '1.2.840.10045.4.3.3',
  'rsa-pkcs1-sha256': '1.2.840.113549.1.1.11',
  'rsa-pss-sha256': '1.2.840.113549.1.1.10',
};

/** CSRs use the most widely accepted scheme of each key type (PKCS#1 v1.5 for RSA). */
export function csrScheme(keyType: KeyType): SignatureScheme {
  if (keyType === 'P-256') return 'ecdsa-sha256';
  if (keyType === 'P-384') return 'ecdsa-sha384';
  return 'rsa-pkcs1-sha256';
}

function algorithmIdentifier(scheme: SignatureScheme): AlgorithmIdentifier {
  const algorithm = SIGNATURE_OIDS[scheme];
  // ECDSA identifiers carry no parameters; RSA PKCS#1 ones carry NULL.
  if (scheme.startsWith('ecdsa')) return new AlgorithmIdentifier({ algorithm });
  return new AlgorithmIdentifier({ algorithm, parameters: new Uint8Array([0x05, 0x00]).buffer });
}

/**
 * A PKCS#10 CSR (DER) for the identity key with subject CN=`subjectCn`. The key store signs
 * the CertificationRequestInfo: the key never leaves it.
 */
export async function createCsr(store: IdentityKeyStore, subjectCn: string): Promise<Buffer> {
  if (!subjectCn || subjectCn.length > 64)
    throw new Error('the CSR common name must be 1 to 64 characters');
  const key = await store.publicKey();
  if (!key) throw new NoIdentityKeyError();
  const scheme = csrScheme(key.keyType);
  const subject = new Name([
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({
        type: OID_COMMON_NAME,
        value: new AttributeValue({ utf8String: subjectCn }),
      }),
    ]),
  ]);
  const info = new CertificationRequestInfo({
    subject,
    subjectPKInfo: AsnConvert.parse(key.spkiDer, SubjectPublicKeyInfo),
  });
  const infoDer = Buffer.from(AsnConvert.serialize(info));
  const signature = await store.sign(infoDer, scheme);
  const csr = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: algorithmIdentifier(scheme),
    signature: new Uint8Array(signature).buffer,
  });
  return Buffer.from(AsnConvert.serialize(csr));
}

/** PEM armour ("CERTIFICATE REQUEST" by default). */
export function toPem(der: Buffer, label = 'CERTIFICATE REQUEST'): string {
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
