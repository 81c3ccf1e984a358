/**
 * A minimal self-signed X.509 certificate around a given SPKI, built byte by byte so tests can
 * also wrap a non-canonical key (which no certificate library would produce).
 */
import { type KeyObject, sign } from 'node:crypto';
import { TAG, encodeTlv } from '../encoding/der.js';

const hex = (h: string) => Buffer.from(h, 'hex');
const ALG = {
  ec256: encodeTlv(TAG.sequence, encodeTlv(TAG.oid, hex('2a8648ce3d040302'))),
  ec384: encodeTlv(TAG.sequence, encodeTlv(TAG.oid, hex('2a8648ce3d040303'))),
  rsa: encodeTlv(TAG.sequence, encodeTlv(TAG.oid, hex('2a864886f70d01010b')), encodeTlv(TAG.null)),
};

function name(cn: string): Buffer {
  const atv = encodeTlv(
    TAG.sequence,
    encodeTlv(TAG.oid, hex('550403')),
    encodeTlv(0x0c, Buffer.from(cn)),
  );
  return encodeTlv(TAG.sequence, encodeTlv(0x31, atv));
}

/** Self-signs `spki` with `privateKey` (whose public half need not be `spki`). */
export function selfSignedCertificate(
  spki: Buffer,
  privateKey: KeyObject,
  cn = 'trustlink test device',
): Buffer {
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  const alg =
    privateKey.asymmetricKeyType === 'rsa'
      ? ALG.rsa
      : curve === 'secp384r1'
        ? ALG.ec384
        : ALG.ec256;
  const validity = encodeTlv(
    TAG.sequence,
    encodeTlv(0x17, Buffer.from('250101000000Z')),
    encodeTlv(0x17, Buffer.from('491231235959Z')),
  );
  const tbs = encodeTlv(
    TAG.sequence,
    encodeTlv(0xa0, encodeTlv(TAG.integer, Buffer.from([2]))),
    encodeTlv(TAG.integer, Buffer.from([0x01, 0x23, 0x45, 0x67])),
    alg,
    name(cn),
    validity,
    name(cn),
    spki,
  );
  const hash = curve === 'secp384r1' ? 'sha384' : 'sha256';
  const signature = sign(hash, tbs, privateKey);
  return encodeTlv(TAG.sequence, tbs, alg, encodeTlv(TAG.bitString, Buffer.from([0]), signature));
}
