import { TAG, bodyOf, bytesOf, children, expectTag, readRoot } from './der-fns.js';

/** The parts of a certificate we reuse verbatim: subject Name and SubjectPublicKeyInfo. */
function tbsParts(certDer: Buffer) {
  const cert = expectTag(readRoot(certDer), TAG.SEQUENCE, 'Certificate');
  const [tbs] = children(certDer, cert);
  const parts = children(certDer, expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate'));
  // [0] version is present in every v3 certificate we hold.
  const off = parts[0]?.tag === 0xa0 ? 1 : 0;
  return { parts, off };
}

/** The DER of a certificate's subject Name, byte for byte (issued certificates copy it). */
export function issuerNameDer(certDer: Buffer): Buffer {
  const { parts, off } = tbsParts(certDer);
  return Buffer.from(bytesOf(certDer, expectTag(parts[off + 4], TAG.SEQUENCE, 'subject')));
}

/** The contents of a certificate's subjectPublicKey BIT STRING (OCSP hashes it). */
export function subjectPublicKeyBits(certDer: Buffer): Buffer {
  const { parts, off } = tbsParts(certDer);
  const spki = expectTag(parts[off + 5], TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const [, bits] = children(certDer, spki);
  return Buffer.from(
    bodyOf(certDer, expectTag(bits, TAG.BIT_STRING, 'subjectPublicKey')).subarray(1),
  );
}

/** PEM armour to DER; undefined when the text holds no block of that label. */
export function pemToDer(pem: string, label = 'CERTIFICATE'): Buffer | undefined {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(pem);
  return m ? Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64') : undefined;
}
