import {
  createPrivateKey,
  generateKeyPair,
  sign as nodeSign,
  constants,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { BadRequestError } from '../lib/errors.js';
import type { SecretBox, SealContext } from '../secrets/secret-box.js';
import { algorithmOfKey, hashOfScheme, spkiDer } from './key-algorithms.js';
import type { KeyAlgorithm, KeyBackend, KeyContext, SignatureScheme } from './keystore-types.js';

const generateKeyPairAsync = promisify(generateKeyPair);

function sealContext(ctx: KeyContext): SealContext {
  return { instanceId: ctx.instanceId, table: 'keys', row: ctx.keyId, column: 'handle' };
}

async function newKey(algorithm: KeyAlgorithm): Promise<KeyObject> {
  if (algorithm === 'P-256' || algorithm === 'P-384') {
    const { privateKey } = await generateKeyPairAsync('ec', {
      namedCurve: algorithm === 'P-256' ? 'prime256v1' : 'secp384r1',
    });
    return privateKey;
  }
  const { privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: algorithm === 'RSA-2048' ? 2048 : 3072,
  });
  return privateKey;
}

/**
 * Software backend: private keys as PKCS#8 sealed under the master key (AES-256-GCM, bound to
 * instance and key id). Opened keys are kept in memory so signing costs no decryption.
 */
export function createSoftwareBackend(
  box: SecretBox,
): KeyBackend & { forget(): void; privateKey(handle: Buffer, ctx: KeyContext): KeyObject } {
  const cache = new Map<string, KeyObject>();
  const privateKey = (handle: Buffer, ctx: KeyContext): KeyObject => {
    const cacheKey = `${ctx.instanceId}/${ctx.keyId}`;
    let key = cache.get(cacheKey);
    if (!key) {
      const der = box.open(handle, sealContext(ctx));
      key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      der.fill(0);
      cache.set(cacheKey, key);
    }
    return key;
  };
  const seal = (key: KeyObject, ctx: KeyContext): Buffer => {
    const der = key.export({ type: 'pkcs8', format: 'der' });
    try {
      return box.seal(der, sealContext(ctx));
    } finally {
      der.fill(0);
    }
  };
  return {
    kind: 'software',
    async generate(algorithm, ctx) {
      const key = await newKey(algorithm);
      return { publicKeyDer: spkiDer(key), handle: seal(key, ctx) };
    },
    async import(pkcs8Der, ctx) {
      let key: KeyObject;
      try {
        key = createPrivateKey({ key: pkcs8Der, format: 'der', type: 'pkcs8' });
      } catch {
        throw new BadRequestError('not a PKCS#8 private key');
      }
      const algorithm = algorithmOfKey(key);
      if (!algorithm)
        throw new BadRequestError('unsupported key type: use ECDSA P-256/P-384 or RSA 2048/3072');
      return { algorithm, publicKeyDer: spkiDer(key), handle: seal(key, ctx) };
    },
    async sign(handle, data, scheme: SignatureScheme, ctx) {
      const key = privateKey(handle, ctx);
      const hash = hashOfScheme(scheme);
      if (scheme.startsWith('rsa-pss')) {
        return nodeSign(hash, data, {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: hash === 'sha256' ? 32 : 48,
        });
      }
      return nodeSign(hash, data, key);
    },
    async destroy(_handle, ctx) {
      cache.delete(`${ctx.instanceId}/${ctx.keyId}`);
    },
    async health() {
      return { ok: true, backend: 'software', detail: `master key ${box.currentKeyId}` };
    },
    forget: () => cache.clear(),
    privateKey,
  };
}
