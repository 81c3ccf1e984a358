import {
  TAG,
  bodyOf,
  bytesOf,
  children,
  expectTag,
  oidOf,
  readRoot,
  type Tlv,
} from '../pki/der-fns.js';

/**
 * The few fields of a certificate the MQTT port reads on every connection, taken from the DER
 * with the strict reader instead of through Node's `X509Certificate`: with Node 20's OpenSSL 3,
 * `getPeerX509Certificate()` costs about half a millisecond per connection (bench/mqtt profile),
 * more than everything else the port adds to the TLS handshake.
 */

const OID_SUBJECT_KEY_ID = '2.5.29.14';
const OID_AUTHORITY_KEY_ID = '2.5.29.35';
/** SSL_SESSION's `peer` field: `[3] EXPLICIT Certificate OPTIONAL` (OpenSSL ssl/ssl_asn1.c). */
const SESSION_PEER = 0xa3;

/**
 * The client certificate (DER) inside a serialised TLS session (`tlsSocket.getSession()`):
 * the certificate the handshake verified, which OpenSSL keeps in the session; undefined when
 * the session holds none or is not laid out as expected (the caller then asks TLS directly).
 */
export function peerCertificateFromSession(session: Buffer): Buffer | undefined {
  try {
    const root = expectTag(readRoot(session), TAG.SEQUENCE, 'SSL_SESSION');
    const peer = children(session, root).find((t) => t.tag === SESSION_PEER);
    if (!peer) return undefined;
    const [cert, extra] = children(session, peer);
    if (!cert || extra || cert.tag !== TAG.SEQUENCE) return undefined;
    return session.subarray(cert.start, cert.end);
  } catch {
    return undefined;
  }
}

/** The TBSCertificate's fields, with the optional `[0]` version skipped. */
function tbsFields(der: Buffer): { parts: Tlv[]; off: number } {
  const cert = expectTag(readRoot(der), TAG.SEQUENCE, 'Certificate');
  const [tbs] = children(der, cert);
  const parts = children(der, expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate'));
  return { parts, off: parts[0]?.tag === 0xa0 ? 1 : 0 };
}

/** The value (inner DER) of the extension `oid`, or undefined. */
function extensionValue(der: Buffer, parts: Tlv[], oid: string): Buffer | undefined {
  const exts = parts.find((p) => p.tag === 0xa3);
  if (!exts) return undefined;
  const [list] = children(der, exts);
  for (const ext of children(der, expectTag(list, TAG.SEQUENCE, 'Extensions'))) {
    const fields = children(der, expectTag(ext, TAG.SEQUENCE, 'Extension'));
    if (oidOf(der, fields[0]!) !== oid) continue;
    return bodyOf(der, expectTag(fields[fields.length - 1], TAG.OCTET_STRING, 'extnValue'));
  }
  return undefined;
}

/** How a certificate names its issuer: the issuer Name's DER and the authority key ID. */
export interface IssuerRef {
  issuerName: Buffer;
  authorityKeyId: Buffer | undefined;
}

/** How a CA names itself: its subject Name's DER and its subject key ID. */
export interface SubjectRef {
  subjectName: Buffer;
  subjectKeyId: Buffer | undefined;
}

/** A certificate's serial (lowercase hex, no leading zeros) and how it names its issuer. */
export function leafFields(der: Buffer): IssuerRef & { serial: string } {
  const { parts, off } = tbsFields(der);
  const serialBody = bodyOf(der, expectTag(parts[off], TAG.INTEGER, 'serialNumber'));
  let i = 0;
  while (i < serialBody.length - 1 && serialBody[i] === 0) i++;
  const issuerName = bytesOf(der, expectTag(parts[off + 2], TAG.SEQUENCE, 'issuer'));
  let authorityKeyId: Buffer | undefined;
  const aki = extensionValue(der, parts, OID_AUTHORITY_KEY_ID);
  if (aki) {
    const root = expectTag(readRoot(aki), TAG.SEQUENCE, 'AuthorityKeyIdentifier');
    const keyId = children(aki, root).find((t) => t.tag === 0x80);
    if (keyId) authorityKeyId = bodyOf(aki, keyId);
  }
  return { serial: serialBody.subarray(i).toString('hex'), issuerName, authorityKeyId };
}

/** A CA certificate's subject Name (DER) and subject key ID. */
export function subjectRefOf(der: Buffer): SubjectRef {
  const { parts, off } = tbsFields(der);
  const subjectName = bytesOf(der, expectTag(parts[off + 4], TAG.SEQUENCE, 'subject'));
  const ski = extensionValue(der, parts, OID_SUBJECT_KEY_ID);
  return {
    subjectName,
    subjectKeyId: ski
      ? bodyOf(ski, expectTag(readRoot(ski), TAG.OCTET_STRING, 'keyId'))
      : undefined,
  };
}

/**
 * Whether `ca` is named as the issuer: the same Name, byte for byte, and the same key ID
 * where both carry one (the checks of OpenSSL's X509_check_issued short of key usage, which
 * the TLS chain check has done). A renewed CA with the same name and no key IDs also fits;
 * the caller tells such CAs apart by the signature.
 */
export function namesIssuer(leaf: IssuerRef, ca: SubjectRef): boolean {
  if (!leaf.issuerName.equals(ca.subjectName)) return false;
  return !leaf.authorityKeyId || !ca.subjectKeyId || leaf.authorityKeyId.equals(ca.subjectKeyId);
}
