import { constants, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { explicit, integer, oid, seq, set, tlv, TAG, bitString } from '../pki/der-fns.js';
import type { DeviceKeyType } from '../pki/device-key-fns.js';
import { deviceIdOf } from '../pki/device-key-fns.js';

/** A device key pair of a type, with its canonical SPKI and device ID. */
export interface TestDeviceKey {
  type: DeviceKeyType;
  privateKey: KeyObject;
  spkiDer: Buffer;
  deviceId: string;
}

export function deviceKey(type: DeviceKeyType = 'P-256'): TestDeviceKey {
  const { privateKey } =
    type === 'P-256' || type === 'P-384'
      ? generateKeyPairSync('ec', { namedCurve: type === 'P-256' ? 'prime256v1' : 'secp384r1' })
      : generateKeyPairSync('rsa', { modulusLength: type === 'RSA-2048' ? 2048 : 3072 });
  const spkiDer = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return { type, privateKey, spkiDer, deviceId: deviceIdOf(spkiDer) };
}

const SIG_ALG = {
  'ecdsa-sha256': seq(oid('1.2.840.10045.4.3.2')),
  'ecdsa-sha384': seq(oid('1.2.840.10045.4.3.3')),
  'rsa-pkcs1-sha256': seq(oid('1.2.840.113549.1.1.11'), Buffer.from([5, 0])),
  'rsa-pss-sha256': Buffer.from(
    '304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120',
    'hex',
  ),
} as const;

export interface CsrOptions {
  /** Subject CN; the device ID by default; null for an empty subject. */
  cn?: string | null;
  /** Another SPKI than the key's (e.g. a non-canonical encoding). */
  spkiDer?: Buffer;
  alg?: keyof typeof SIG_ALG;
  /** Flip a bit of the signature. */
  badSignature?: boolean;
}

/** A DER PKCS#10 request signed by the key, built by hand so tests can bend every part. */
export function makeCsr(key: TestDeviceKey, opts: CsrOptions = {}): Buffer {
  const cn = opts.cn === undefined ? key.deviceId : opts.cn;
  const name =
    cn === null
      ? seq()
      : seq(set(seq(oid('2.5.4.3'), tlv(TAG.UTF8_STRING, Buffer.from(cn, 'utf8')))));
  const info = seq(integer(0), name, opts.spkiDer ?? key.spkiDer, explicit(0));
  const alg =
    opts.alg ??
    (key.type === 'P-384'
      ? 'ecdsa-sha384'
      : key.type.startsWith('P-')
        ? 'ecdsa-sha256'
        : 'rsa-pkcs1-sha256');
  const hash = alg.endsWith('384') ? 'sha384' : 'sha256';
  const sig = alg.startsWith('rsa-pss')
    ? sign(hash, info, {
        key: key.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      })
    : sign(hash, info, key.privateKey);
  if (opts.badSignature) sig[sig.length - 3]! ^= 0x01;
  return seq(info, SIG_ALG[alg], bitString(sig));
}
