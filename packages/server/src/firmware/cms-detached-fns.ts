import 'reflect-metadata';
import { constants, createHash, verify, X509Certificate, type KeyObject } from 'node:crypto';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  CMSVersion,
  ContentInfo,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
  SigningTime,
  id_contentType,
  id_data,
  id_messageDigest,
  id_signedData,
  id_signingTime,
} from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import { BadRequestError } from '../lib/errors.js';
import { signatureAlgorithmIdentifier } from '../pki/signature-algorithms.js';
import type { FirmwareSigner } from './firmware-signer.js';

/**
 * Detached CMS (RFC 5652) SignedData for Linux update bundles: the bundle travels beside its
 * signature, which holds signed attributes (content type, message digest, signing time) and the
 * certificates, but not the content. `openssl cms -verify -binary -inform DER -content <bundle>`
 * checks it. The signature value comes from the injected signer, over the DER of the signed
 * attributes, so the private key stays in the key store.
 */

/** Signature schemes a CMS signature is made with here (the content digest is SHA-256). */
export type CmsSignatureScheme = 'ecdsa-sha256' | 'rsa-pkcs1-sha256' | 'rsa-pss-sha256';

/** The content itself, or its SHA-256 computed by the caller while streaming it. */
export type CmsContent = Buffer | { sha256: Buffer };

const ID_SHA256 = '2.16.840.1.101.3.4.2.1';
const ID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
/** DER of the OBJECT IDENTIFIER id-data, the value of the contentType attribute. */
const ID_DATA_DER = Buffer.from('06092a864886f70d010701', 'hex');
const NULL_DER = new Uint8Array([0x05, 0x00]).buffer;

const toArrayBuffer = (b: Buffer): ArrayBuffer =>
  b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** RSA PKCS#1 v1.5 as rsaEncryption, what RFC 3370 asks for and OpenSSL writes itself. */
function signerInfoAlgorithm(scheme: CmsSignatureScheme): AlgorithmIdentifier {
  if (scheme === 'rsa-pkcs1-sha256') {
    return new AlgorithmIdentifier({ algorithm: ID_RSA_ENCRYPTION, parameters: NULL_DER });
  }
  return signatureAlgorithmIdentifier(scheme);
}

function keyFits(key: KeyObject, scheme: CmsSignatureScheme): boolean {
  return scheme === 'ecdsa-sha256'
    ? key.asymmetricKeyType === 'ec'
    : key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss';
}

function parseCertificate(der: Buffer, what: string): Certificate {
  try {
    return AsnConvert.parse(der, Certificate);
  } catch {
    throw new BadRequestError(`${what} is not a DER X.509 certificate`);
  }
}

/**
 * DER SET OF: elements sorted by their encodings (X.690 11.6). OpenSSL re-encodes the signed
 * attributes before checking the signature, so anything but DER order would not verify.
 */
function derSetOf(elements: Buffer[]): { sorted: Buffer[]; der: Buffer } {
  const sorted = [...elements].sort(Buffer.compare);
  const body = Buffer.concat(sorted);
  const len = body.length;
  if (len > 0xffff) throw new Error('signed attributes too large');
  const header =
    len < 0x80
      ? Buffer.from([0x31, len])
      : len < 0x100
        ? Buffer.from([0x31, 0x81, len])
        : Buffer.from([0x31, 0x82, len >> 8, len & 0xff]);
  return { sorted, der: Buffer.concat([header, body]) };
}

/**
 * Signs `content` (or its precomputed SHA-256) as detached CMS SignedData; returns the DER
 * ContentInfo. `chainDers` are the intermediate certificates to embed (the root may be left
 * out: the verifier brings it). `signingTime` defaults to now.
 */
export async function signDetachedCms(
  content: CmsContent,
  signerCertDer: Buffer,
  chainDers: Buffer[],
  signer: FirmwareSigner,
  scheme: CmsSignatureScheme,
  options: { signingTime?: Date } = {},
): Promise<Buffer> {
  const digest = Buffer.isBuffer(content)
    ? createHash('sha256').update(content).digest()
    : content.sha256;
  if (digest.length !== 32) throw new BadRequestError('the content digest must be 32 bytes');
  const cert = parseCertificate(signerCertDer, 'the signer certificate');
  const chain = chainDers.map((d, i) => parseCertificate(d, `chain certificate ${i + 1}`));
  const publicKey = new X509Certificate(signerCertDer).publicKey;
  if (!keyFits(publicKey, scheme)) {
    throw new BadRequestError(`the signer certificate's key cannot sign with ${scheme}`);
  }

  const attributes = [
    new Attribute({ attrType: id_contentType, attrValues: [toArrayBuffer(ID_DATA_DER)] }),
    new Attribute({
      attrType: id_signingTime,
      attrValues: [AsnConvert.serialize(new SigningTime(options.signingTime ?? new Date()))],
    }),
    new Attribute({
      attrType: id_messageDigest,
      attrValues: [AsnConvert.serialize(new OctetString(digest))],
    }),
  ];
  const encoded = attributes.map((a) => Buffer.from(AsnConvert.serialize(a)));
  const set = derSetOf(encoded);
  const signature = await signer(set.der, scheme);
  const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  const keyOpts = scheme === 'rsa-pss-sha256' ? { key: publicKey, ...pss } : publicKey;
  // A signer bound to another key would yield a signature nobody can verify: refuse it here.
  if (!verify('sha256', set.der, keyOpts, signature)) {
    throw new Error("the signature does not verify with the signer certificate's key");
  }

  const signerInfo = new SignerInfo({
    version: CMSVersion.v1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({
        issuer: cert.tbsCertificate.issuer,
        serialNumber: cert.tbsCertificate.serialNumber,
      }),
    }),
    digestAlgorithm: new DigestAlgorithmIdentifier({ algorithm: ID_SHA256 }),
    signedAttrs: set.sorted.map((der) => AsnConvert.parse(der, Attribute)),
    signatureAlgorithm: signerInfoAlgorithm(scheme),
    signature: new OctetString(signature),
  });
  const signedData = new SignedData({
    version: CMSVersion.v1,
    digestAlgorithms: new DigestAlgorithmIdentifiers([
      new DigestAlgorithmIdentifier({ algorithm: ID_SHA256 }),
    ]),
    // Detached: the content type is named, the content itself is absent.
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: id_data }),
    certificates: new CertificateSet(
      [cert, ...chain].map((certificate) => new CertificateChoices({ certificate })),
    ),
    signerInfos: new SignerInfos([signerInfo]),
  });
  const der = Buffer.from(
    AsnConvert.serialize(
      new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signedData) }),
    ),
  );
  // The signed bytes must appear verbatim, only retagged [0] IMPLICIT, in what we hand out.
  if (!der.includes(Buffer.concat([Buffer.from([0xa0]), set.der.subarray(1)]))) {
    throw new Error('signed attributes were re-encoded differently from what was signed');
  }
  return der;
}
