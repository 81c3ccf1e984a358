import {
  DerError,
  TAG,
  bodyOf,
  bytesOf,
  children,
  expectTag,
  integerBody,
  oidOf,
  readRoot,
  type Tlv,
} from './der-fns.js';
import { checkDeviceKey, type DeviceKey } from './device-key-fns.js';

/** Largest CSR accepted (an RSA-3072 CSR is about 1 KiB). */
export const MAX_CSR_BYTES = 8 * 1024;

export type CsrSignatureAlgorithm =
  | 'ecdsa-sha256'
  | 'ecdsa-sha384'
  | 'rsa-pkcs1-sha256'
  | 'rsa-pkcs1-sha384'
  | 'rsa-pss-sha256'
  | 'rsa-pss-sha384';

/** A PKCS#10 request taken apart, before its signature is checked. */
export interface ParsedCsr {
  /** The DER of certificationRequestInfo: what the signature covers. */
  info: Buffer;
  key: DeviceKey;
  /** Common names in the subject (zero or more, as strings). */
  subjectCommonNames: string[];
  signatureAlgorithm: CsrSignatureAlgorithm;
  signature: Buffer;
}

export type CsrParse = { ok: true; csr: ParsedCsr } | { ok: false; reason: string };

const SIG_OIDS: Record<string, CsrSignatureAlgorithm> = {
  '1.2.840.10045.4.3.2': 'ecdsa-sha256',
  '1.2.840.10045.4.3.3': 'ecdsa-sha384',
  '1.2.840.113549.1.1.11': 'rsa-pkcs1-sha256',
  '1.2.840.113549.1.1.12': 'rsa-pkcs1-sha384',
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';
/** RSASSA-PSS-params we accept: SHA-256/MGF1-SHA-256/salt 32 and SHA-384/MGF1-SHA-384/salt 48. */
const PSS_PARAMS: Record<string, CsrSignatureAlgorithm> = {
  '3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120':
    'rsa-pss-sha256',
  '3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130':
    'rsa-pss-sha384',
};
const ID_AT_COMMON_NAME = '2.5.4.3';
const STRING_TAGS: ReadonlySet<number> = new Set([
  TAG.UTF8_STRING,
  TAG.PRINTABLE_STRING,
  TAG.IA5_STRING,
  TAG.T61_STRING,
  TAG.BMP_STRING,
]);

function signatureAlgorithm(buf: Buffer, alg: Tlv): CsrSignatureAlgorithm {
  const [id, params, extra] = children(buf, expectTag(alg, TAG.SEQUENCE, 'signatureAlgorithm'));
  if (!id || extra) throw new DerError('signatureAlgorithm: unexpected structure');
  const name = oidOf(buf, id);
  if (name === RSASSA_PSS) {
    const scheme = params ? PSS_PARAMS[bytesOf(buf, params).toString('hex')] : undefined;
    if (!scheme)
      throw new DerError(
        'RSASSA-PSS parameters: use SHA-256 or SHA-384 with MGF1 of the same hash and a salt of the hash length',
      );
    return scheme;
  }
  const scheme = SIG_OIDS[name];
  if (!scheme) throw new DerError(`signature algorithm ${name} is not accepted`);
  if (scheme.startsWith('ecdsa') && params)
    throw new DerError('ECDSA signature algorithm must have no parameters');
  if (scheme.startsWith('rsa') && params && !bytesOf(buf, params).equals(Buffer.from([5, 0]))) {
    throw new DerError('RSA signature algorithm parameters must be NULL');
  }
  return scheme;
}

function commonNames(buf: Buffer, name: Tlv): string[] {
  const out: string[] = [];
  for (const rdn of children(buf, expectTag(name, TAG.SEQUENCE, 'subject'))) {
    for (const atv of children(buf, expectTag(rdn, TAG.SET, 'subject RDN'))) {
      const [type, value, extra] = children(buf, expectTag(atv, TAG.SEQUENCE, 'subject attribute'));
      if (!type || !value || extra) throw new DerError('subject attribute: unexpected structure');
      if (oidOf(buf, type) !== ID_AT_COMMON_NAME) continue;
      if (!STRING_TAGS.has(value.tag)) throw new DerError('subject CN is not a string');
      const body = bodyOf(buf, value);
      out.push(
        value.tag === TAG.BMP_STRING ? body.swap16().toString('utf16le') : body.toString('utf8'),
      );
    }
  }
  return out;
}

/**
 * Takes a DER PKCS#10 request apart and checks its public key is a canonical device key.
 * The signature is not checked here (see verifyCsrSignature); nothing is trusted yet.
 */
export function parseCsr(der: Buffer): CsrParse {
  if (der.length > MAX_CSR_BYTES) {
    return {
      ok: false,
      reason: `CSR is ${der.length} bytes; at most ${MAX_CSR_BYTES} are accepted`,
    };
  }
  try {
    const root = readRoot(der);
    const [info, alg, sig, extra] = children(der, expectTag(root, TAG.SEQUENCE, 'CSR'));
    if (!info || !alg || !sig || extra) throw new DerError('not a PKCS#10 certification request');
    const [version, subject, spki, attrs, more] = children(
      der,
      expectTag(info, TAG.SEQUENCE, 'certificationRequestInfo'),
    );
    if (!version || !subject || !spki || !attrs || more || attrs.tag !== 0xa0) {
      throw new DerError('not a PKCS#10 certification request');
    }
    const v = integerBody(der, version);
    if (v.length !== 1 || v[0] !== 0) throw new DerError('CSR version must be 1 (0)');
    const keyCheck = checkDeviceKey(
      Buffer.from(bytesOf(der, expectTag(spki, TAG.SEQUENCE, 'subjectPKInfo'))),
    );
    if (!keyCheck.ok) return { ok: false, reason: keyCheck.reason };
    const signatureAlgorithmName = signatureAlgorithm(der, alg);
    if (signatureAlgorithmName.startsWith('ecdsa') !== keyCheck.key.type.startsWith('P-')) {
      throw new DerError('the signature algorithm does not match the key type');
    }
    const bits = bodyOf(der, expectTag(sig, TAG.BIT_STRING, 'signature'));
    if (bits.length < 2 || bits[0] !== 0) throw new DerError('signature: unexpected structure');
    return {
      ok: true,
      csr: {
        info: bytesOf(der, info),
        key: keyCheck.key,
        subjectCommonNames: commonNames(der, subject),
        signatureAlgorithm: signatureAlgorithmName,
        signature: bits.subarray(1),
      },
    };
  } catch (err) {
    if (err instanceof DerError) return { ok: false, reason: `malformed CSR: ${err.message}` };
    throw err;
  }
}

/**
 * Reads a CSR given as DER, as PEM ("CERTIFICATE REQUEST") or as base64/base64url of DER.
 * Returns undefined when it is none of these.
 */
export function csrBytes(input: Buffer | string): Buffer | undefined {
  if (Buffer.isBuffer(input)) return input;
  const pem =
    /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (NEW )?CERTIFICATE REQUEST-----/.exec(
      input,
    );
  const b64 = (pem ? pem[2]! : input).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64) || b64.length === 0) return undefined;
  return Buffer.from(b64, /[-_]/.test(b64) ? 'base64url' : 'base64');
}
