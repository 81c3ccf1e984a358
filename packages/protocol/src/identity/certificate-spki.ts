import { X509Certificate } from 'node:crypto';
import { DerError, TAG, readChildren, readOne } from '../encoding/der.js';
import { type Result, fail } from '../result.js';

/**
 * The SubjectPublicKeyInfo bytes of an X.509 certificate, exactly as they appear in it. We slice
 * them out rather than asking OpenSSL for the key, because OpenSSL re-encodes what it exports and
 * would hide a non-canonical key behind a canonical-looking one. The certificate itself (chain,
 * validity, revocation) is not judged here: that is the server's job.
 */
export function spkiFromCertificate(
  certDer: Uint8Array,
): Result<{ spki: Buffer }, 'bad-certificate'> {
  return spkiOfCertificate(certDer, true);
}

/**
 * {@link spkiFromCertificate} for a certificate the caller has already parsed in full with
 * OpenSSL (an `X509Certificate` of these bytes): only the slice, no second parse.
 */
export function spkiFromParsedCertificate(
  certDer: Uint8Array,
): Result<{ spki: Buffer }, 'bad-certificate'> {
  return spkiOfCertificate(certDer, false);
}

function spkiOfCertificate(
  certDer: Uint8Array,
  fullParse: boolean,
): Result<{ spki: Buffer }, 'bad-certificate'> {
  const der = Buffer.from(certDer.buffer, certDer.byteOffset, certDer.byteLength);
  try {
    const [tbs] = readChildren(readOne(der, TAG.sequence));
    if (!tbs) return fail('bad-certificate', 'certificate is empty');
    const fields = readChildren(tbs);
    // tbsCertificate: [0] version (optional), serial, signature, issuer, validity, subject, spki, ...
    const spki = fields[fields[0]?.tag === 0xa0 ? 6 : 5];
    if (!spki || spki.tag !== TAG.sequence) {
      return fail('bad-certificate', 'certificate has no subjectPublicKeyInfo');
    }
    // Also a full parse, so a structure that only looks like a certificate is refused.
    if (fullParse) new X509Certificate(der);
    return { ok: true, spki: Buffer.from(spki.der) };
  } catch (e) {
    if (e instanceof DerError) return fail('bad-certificate', `certificate: ${e.message}`);
    return fail('bad-certificate', 'certificate cannot be parsed');
  }
}
