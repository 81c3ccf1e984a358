import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import type { SignatureScheme } from '../keystore/keystore-types.js';

const NULL_PARAMS = new Uint8Array([0x05, 0x00]).buffer;

const OIDS: Record<SignatureScheme, string> = {
  'ecdsa-sha256': '1.2.840.10045.4.3.2',
  'ecdsa-sha384': '1.2.840.10045.4.3.3',
  'rsa-pkcs1-sha256': '1.2.840.113549.1.1.11',
  'rsa-pkcs1-sha384': '1.2.840.113549.1.1.12',
  'rsa-pss-sha256': '1.2.840.113549.1.1.10',
  'rsa-pss-sha384': '1.2.840.113549.1.1.10',
};

/** RSASSA-PSS-params for SHA-256/384 with MGF1 of the same hash and a salt of the hash size. */
function pssParams(hash: 'sha256' | 'sha384'): ArrayBuffer {
  const der =
    hash === 'sha256'
      ? '3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120'
      : '3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130';
  const buf = Buffer.from(der, 'hex');
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

/** The AlgorithmIdentifier an X.509 structure signed with this scheme carries. */
export function signatureAlgorithmIdentifier(scheme: SignatureScheme): AlgorithmIdentifier {
  const algorithm = OIDS[scheme];
  if (scheme.startsWith('ecdsa')) return new AlgorithmIdentifier({ algorithm });
  if (scheme.startsWith('rsa-pss')) {
    return new AlgorithmIdentifier({
      algorithm,
      parameters: pssParams(scheme.endsWith('384') ? 'sha384' : 'sha256'),
    });
  }
  return new AlgorithmIdentifier({ algorithm, parameters: NULL_PARAMS });
}

/** The DER of that AlgorithmIdentifier (for prepared templates). */
export function signatureAlgorithmDer(scheme: SignatureScheme): Buffer {
  return Buffer.from(AsnConvert.serialize(signatureAlgorithmIdentifier(scheme)));
}
