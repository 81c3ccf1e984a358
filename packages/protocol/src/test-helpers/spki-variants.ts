/**
 * Non-canonical and refused encodings of real keys, built byte by byte. Shared by the unit tests
 * and the test-vector script, so both exercise the same variants.
 */
import { ECDH } from 'node:crypto';
import { TAG, encodeTlv, readChildren, readOne, readUnsignedInteger } from '../encoding/der.js';

const hex = (h: string) => Buffer.from(h, 'hex');
export const OIDS = {
  ecPublicKey: hex('2a8648ce3d0201'),
  p256: hex('2a8648ce3d030107'),
  p384: hex('2b81040022'),
  rsaEncryption: hex('2a864886f70d010101'),
  primeField: hex('2a8648ce3d0101'),
};

const P256 = {
  p: 'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff',
  a: 'ffffffff00000001000000000000000000000000fffffffffffffffffffffffc',
  b: '5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b',
  g: '046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5',
  n: 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
};

/** An EC SPKI from parts: `params` is the full parameters TLV (or undefined to omit it). */
export function ecSpki(params: Buffer | undefined, point: Buffer, unusedBits = 0): Buffer {
  const alg = encodeTlv(
    TAG.sequence,
    encodeTlv(TAG.oid, OIDS.ecPublicKey),
    ...(params ? [params] : []),
  );
  return encodeTlv(TAG.sequence, alg, encodeTlv(TAG.bitString, Buffer.from([unusedBits]), point));
}

/** An RSA SPKI from raw INTEGER contents (so tests can break minimality on purpose); null omits the parameters. */
export function rsaSpki(
  nContents: Buffer,
  eContents: Buffer,
  params: Buffer | null = encodeTlv(TAG.null),
): Buffer {
  const key = encodeTlv(
    TAG.sequence,
    encodeTlv(TAG.integer, nContents),
    encodeTlv(TAG.integer, eContents),
  );
  const alg = encodeTlv(
    TAG.sequence,
    encodeTlv(TAG.oid, OIDS.rsaEncryption),
    ...(params ? [params] : []),
  );
  return encodeTlv(TAG.sequence, alg, encodeTlv(TAG.bitString, Buffer.from([0]), key));
}

/** The uncompressed point of a canonical EC SPKI. */
export function ecPoint(spki: Buffer): Buffer {
  const [, bits] = readChildren(readOne(spki));
  return Buffer.from(bits!.contents.subarray(1));
}

/** Modulus and exponent contents (with sign byte) of a canonical RSA SPKI. */
export function rsaParts(spki: Buffer): { n: Buffer; e: Buffer } {
  const [, bits] = readChildren(readOne(spki));
  const [n, e] = readChildren(readOne(bits!.contents.subarray(1)));
  return { n: Buffer.from(n!.contents), e: Buffer.from(e!.contents) };
}

/** Compressed form of an uncompressed point (via OpenSSL, so it is certainly the same key). */
export function compressPoint(point: Buffer, curve: 'prime256v1' | 'secp384r1'): Buffer {
  return ECDH.convertKey(point, curve, undefined, undefined, 'compressed') as Buffer;
}

/** P-256 explicit ECParameters (RFC 3279), the form a canonical key must not use. */
export function p256ExplicitParams(): Buffer {
  const int = (h: string) =>
    encodeTlv(TAG.integer, hex(h)[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), hex(h)]) : hex(h));
  return encodeTlv(
    TAG.sequence,
    encodeTlv(TAG.integer, Buffer.from([1])),
    encodeTlv(TAG.sequence, encodeTlv(TAG.oid, OIDS.primeField), int(P256.p)),
    encodeTlv(
      TAG.sequence,
      encodeTlv(TAG.octetString, hex(P256.a)),
      encodeTlv(TAG.octetString, hex(P256.b)),
    ),
    encodeTlv(TAG.octetString, hex(P256.g)),
    int(P256.n),
    encodeTlv(TAG.integer, Buffer.from([1])),
  );
}

/** Named variants of a canonical P-256 SPKI, each with the reason it must be refused. */
export function p256Variants(spki: Buffer): { name: string; spki: Buffer; reason: string }[] {
  const point = ecPoint(spki);
  const curve = encodeTlv(TAG.oid, OIDS.p256);
  const offCurve = Buffer.from(point);
  offCurve[offCurve.length - 1]! ^= 0x01;
  const hybrid = Buffer.from(point);
  hybrid[0] = 0x06 | (point[point.length - 1]! & 1);
  // The outer length (89) written in the long form: BER allows it, DER does not.
  const longLength = Buffer.concat([Buffer.from([0x30, 0x81]), spki.subarray(1)]);
  return [
    {
      name: 'compressed point',
      spki: ecSpki(curve, compressPoint(point, 'prime256v1')),
      reason: 'compressed-point',
    },
    { name: 'hybrid point', spki: ecSpki(curve, hybrid), reason: 'hybrid-point' },
    {
      name: 'explicit curve parameters',
      spki: ecSpki(p256ExplicitParams(), point),
      reason: 'explicit-curve-parameters',
    },
    { name: 'no curve parameter', spki: ecSpki(undefined, point), reason: 'missing-curve' },
    {
      name: 'NULL curve parameter',
      spki: ecSpki(encodeTlv(TAG.null), point),
      reason: 'missing-curve',
    },
    {
      name: 'integer as curve parameter',
      spki: ecSpki(encodeTlv(TAG.integer, Buffer.from([1])), point),
      reason: 'bad-parameters',
    },
    {
      name: 'P-384 OID on a P-256 point',
      spki: ecSpki(encodeTlv(TAG.oid, OIDS.p384), point),
      reason: 'bad-point',
    },
    {
      name: 'point one byte short',
      spki: ecSpki(curve, point.subarray(0, -1)),
      reason: 'bad-point',
    },
    { name: 'point not on the curve', spki: ecSpki(curve, offCurve), reason: 'point-not-on-curve' },
    {
      name: 'BIT STRING with unused bits',
      spki: ecSpki(curve, point, 1),
      reason: 'bit-string-padding',
    },
    { name: 'long-form length', spki: longLength, reason: 'non-minimal-length' },
    {
      name: 'indefinite length',
      spki: Buffer.concat([Buffer.from([0x30, 0x80]), spki.subarray(2), Buffer.from([0, 0])]),
      reason: 'indefinite-length',
    },
    {
      name: 'trailing byte',
      spki: Buffer.concat([spki, Buffer.from([0])]),
      reason: 'trailing-bytes',
    },
    { name: 'truncated', spki: spki.subarray(0, -1), reason: 'truncated' },
    {
      name: 'extra field in SubjectPublicKeyInfo',
      spki: encodeTlv(
        TAG.sequence,
        ...readChildren(readOne(spki)).map((t) => t.der),
        encodeTlv(TAG.null),
      ),
      reason: 'malformed',
    },
  ];
}

/** Named variants of a canonical RSA SPKI, each with the reason it must be refused. */
export function rsaVariants(spki: Buffer): { name: string; spki: Buffer; reason: string }[] {
  const { n, e } = rsaParts(spki);
  const evenN = Buffer.from(n);
  evenN[evenN.length - 1]! &= 0xfe;
  const magnitude = readUnsignedInteger({ tag: TAG.integer, contents: n, der: n });
  return [
    {
      name: 'rsaEncryption without NULL',
      spki: rsaSpki(n, e, null),
      reason: 'missing-null-parameters',
    },
    {
      name: 'OID as rsaEncryption parameters',
      spki: rsaSpki(n, e, encodeTlv(TAG.oid, OIDS.p256)),
      reason: 'bad-parameters',
    },
    {
      name: 'modulus with a redundant zero byte',
      spki: rsaSpki(Buffer.concat([Buffer.from([0]), n]), e),
      reason: 'non-minimal-integer',
    },
    {
      name: 'modulus without its sign byte (negative)',
      spki: rsaSpki(Buffer.from(magnitude), e),
      reason: 'negative-integer',
    },
    {
      name: 'exponent with a redundant zero byte',
      spki: rsaSpki(n, Buffer.concat([Buffer.from([0]), e])),
      reason: 'non-minimal-integer',
    },
    { name: 'exponent 3', spki: rsaSpki(n, Buffer.from([3])), reason: 'bad-exponent' },
    {
      name: 'even exponent',
      spki: rsaSpki(n, Buffer.from([0x01, 0x00, 0x02])),
      reason: 'bad-exponent',
    },
    { name: 'even modulus', spki: rsaSpki(evenN, e), reason: 'bad-modulus' },
    {
      name: 'trailing byte',
      spki: Buffer.concat([spki, Buffer.from([0])]),
      reason: 'trailing-bytes',
    },
  ];
}
