import type * as Pkcs11Types from 'pkcs11js';
import type { Pkcs11KeyStoreConfig } from '../../config/agent-config-schema.js';
import { KeyStoreRefusedError, NoIdentityKeyError } from '../key-store-errors.js';
import type {
  IdentityKeyResult,
  IdentityKeyStore,
  IdentityPublicKey,
  KeyType,
  SignatureScheme,
} from '../key-store-types.js';
import {
  assertSchemeFits,
  digestFor,
  ecdsaRawToDer,
  hashOfScheme,
  pkcs1DigestInfo,
  PSS_SALT_LENGTH,
  verifySignature,
} from '../signature-fns.js';
import { canonicalPublicKey, spkiFromEcPoint, spkiFromRsa } from '../spki-fns.js';
import {
  attributes,
  findObjects,
  isTrue,
  pkcs11js as P,
  ulong,
  withTokenSession,
  type Handle,
  type TokenSession,
} from './pkcs11-session.js';

export type Pkcs11KeyStoreOptions = Omit<Pkcs11KeyStoreConfig, 'type' | 'pinFile' | 'pinEnv'> & {
  /** Gives the user PIN when a session opens (read from a file or the environment). */
  pin(): string;
};

/** DER OIDs of the named curves, as CKA_EC_PARAMS holds them. */
const EC_PARAMS: Record<'P-256' | 'P-384', Buffer> = {
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'),
  'P-384': Buffer.from('06052b81040022', 'hex'),
};

/**
 * The point of CKA_EC_POINT: the standard wraps it in a DER OCTET STRING, some tokens give it
 * bare. The curve fixes the bare length (0x04 || X || Y), which tells the two apart.
 */
function unwrapEcPoint(curve: 'P-256' | 'P-384', value: Buffer): Buffer {
  const bare = curve === 'P-256' ? 65 : 97;
  if (value.length === bare) return value;
  if (value.length === bare + 2 && value[0] === 0x04 && value[1] === bare) return value.subarray(2);
  throw new KeyStoreRefusedError(`CKA_EC_POINT of ${value.length} bytes is not a ${curve} point`);
}

/**
 * Identity key in a PKCS#11 token. The pair is generated in the token (sensitive, never
 * extractable) and found again by label (and id). Signing hashes here and uses the raw
 * mechanisms (CKM_ECDSA, CKM_RSA_PKCS_PSS, CKM_RSA_PKCS), which every token has; SoftHSM2,
 * for one, lacks CKM_ECDSA_SHA256.
 */
export function createPkcs11KeyStore(opts: Pkcs11KeyStoreOptions): IdentityKeyStore {
  const where = `PKCS#11 token "${opts.tokenLabel}", key "${opts.keyLabel}"${opts.keyId ? ` id ${opts.keyId}` : ''}`;
  const keyTemplate = (cls: number) => [
    { type: P.CKA_CLASS, value: cls },
    { type: P.CKA_LABEL, value: opts.keyLabel },
    ...(opts.keyId ? [{ type: P.CKA_ID, value: Buffer.from(opts.keyId, 'hex') }] : []),
  ];

  // async, so a missing PIN surfaces as a rejected promise like every other failure
  const session = async <T>(fn: (s: TokenSession) => T | Promise<T>) =>
    withTokenSession({ module: opts.module, tokenLabel: opts.tokenLabel, pin: opts.pin() }, fn);

  function one(s: TokenSession, cls: number, what: string): Handle | null {
    const found = findObjects(s, keyTemplate(cls));
    if (found.length > 1) {
      throw new KeyStoreRefusedError(
        `${where}: ${found.length} ${what} objects match; refusing to choose`,
      );
    }
    return found[0] ?? null;
  }

  /** Checks the private key was made in the token and can never leave it. */
  function checkPrivate(s: TokenSession, key: Handle): void {
    const names = ['CKA_SIGN', 'CKA_SENSITIVE', 'CKA_ALWAYS_SENSITIVE', 'CKA_NEVER_EXTRACTABLE'];
    const [sign, sensitive, always, never, extractable] = attributes(s, key, [
      P.CKA_SIGN,
      P.CKA_SENSITIVE,
      P.CKA_ALWAYS_SENSITIVE,
      P.CKA_NEVER_EXTRACTABLE,
      P.CKA_EXTRACTABLE,
    ]);
    const bad = [sign, sensitive, always, never].flatMap((v, i) => (isTrue(v) ? [] : [names[i]]));
    if (isTrue(extractable)) bad.push('CKA_EXTRACTABLE is true');
    if (bad.length) {
      throw new KeyStoreRefusedError(
        `${where}: the private key lacks ${bad.join(', ')} (it must be generated in the token and never leave it): refusing to use or replace it`,
      );
    }
  }

  function readPublic(s: TokenSession, pub: Handle): IdentityPublicKey {
    const [keyType] = attributes(s, pub, [P.CKA_KEY_TYPE]);
    let spki: Buffer;
    if (ulong(keyType!) === P.CKK_EC) {
      const [params, point] = attributes(s, pub, [P.CKA_EC_PARAMS, P.CKA_EC_POINT]);
      const curve = (Object.keys(EC_PARAMS) as ('P-256' | 'P-384')[]).find((c) =>
        EC_PARAMS[c].equals(params!),
      );
      if (!curve)
        throw new KeyStoreRefusedError(`${where}: EC key on a curve other than P-256 or P-384`);
      spki = spkiFromEcPoint(curve, unwrapEcPoint(curve, point!));
    } else if (ulong(keyType!) === P.CKK_RSA) {
      const [n, e] = attributes(s, pub, [P.CKA_MODULUS, P.CKA_PUBLIC_EXPONENT]);
      spki = spkiFromRsa(n!, e!);
    } else {
      throw new KeyStoreRefusedError(`${where}: key type is neither EC nor RSA`);
    }
    try {
      return canonicalPublicKey(spki);
    } catch (err) {
      throw new KeyStoreRefusedError(`${where}: ${(err as Error).message}`);
    }
  }

  /** The existing key pair, checked, or null when the token holds none. */
  function existing(s: TokenSession): { priv: Handle; key: IdentityPublicKey } | null {
    const priv = one(s, P.CKO_PRIVATE_KEY, 'private key');
    const pub = one(s, P.CKO_PUBLIC_KEY, 'public key');
    if (!priv && !pub) return null;
    if (!priv || !pub) {
      throw new KeyStoreRefusedError(
        `${where}: the token holds a ${priv ? 'private' : 'public'} key without its ${priv ? 'public' : 'private'} half`,
      );
    }
    checkPrivate(s, priv);
    return { priv, key: readPublic(s, pub) };
  }

  function generate(s: TokenSession, keyType: KeyType): IdentityPublicKey {
    const common = [
      { type: P.CKA_TOKEN, value: true },
      { type: P.CKA_LABEL, value: opts.keyLabel },
      ...(opts.keyId ? [{ type: P.CKA_ID, value: Buffer.from(opts.keyId, 'hex') }] : []),
    ];
    const isEc = keyType === 'P-256' || keyType === 'P-384';
    const publicTemplate = [
      ...common,
      { type: P.CKA_CLASS, value: P.CKO_PUBLIC_KEY },
      { type: P.CKA_PRIVATE, value: false },
      { type: P.CKA_VERIFY, value: true },
      ...(isEc
        ? [{ type: P.CKA_EC_PARAMS, value: EC_PARAMS[keyType] }]
        : [
            { type: P.CKA_MODULUS_BITS, value: keyType === 'RSA-2048' ? 2048 : 3072 },
            { type: P.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
          ]),
    ];
    const privateTemplate = [
      ...common,
      { type: P.CKA_CLASS, value: P.CKO_PRIVATE_KEY },
      { type: P.CKA_PRIVATE, value: true },
      { type: P.CKA_SENSITIVE, value: true },
      { type: P.CKA_EXTRACTABLE, value: false },
      { type: P.CKA_SIGN, value: true },
    ];
    const mechanism = { mechanism: isEc ? P.CKM_EC_KEY_PAIR_GEN : P.CKM_RSA_PKCS_KEY_PAIR_GEN };
    const pair = s.p11.C_GenerateKeyPair(s.session, mechanism, publicTemplate, privateTemplate);
    checkPrivate(s, pair.privateKey);
    return readPublic(s, pair.publicKey);
  }

  function signWith(s: TokenSession, priv: Handle, data: Buffer, scheme: SignatureScheme): Buffer {
    const digest = digestFor(scheme, data);
    let mechanism: Pkcs11Types.Mechanism;
    let input = digest;
    if (scheme === 'ecdsa-sha256' || scheme === 'ecdsa-sha384') {
      mechanism = { mechanism: P.CKM_ECDSA };
    } else if (scheme === 'rsa-pss-sha256') {
      mechanism = {
        mechanism: P.CKM_RSA_PKCS_PSS,
        parameter: {
          type: P.CK_PARAMS_RSA_PSS,
          hashAlg: P.CKM_SHA256,
          mgf: P.CKG_MGF1_SHA256,
          saltLen: PSS_SALT_LENGTH,
        } as Pkcs11Types.RsaPSS,
      };
    } else {
      mechanism = { mechanism: P.CKM_RSA_PKCS };
      input = pkcs1DigestInfo(hashOfScheme(scheme), digest);
    }
    s.p11.C_SignInit(s.session, mechanism, priv);
    const out = s.p11.C_Sign(s.session, input, Buffer.alloc(1024));
    return scheme.startsWith('ecdsa') ? ecdsaRawToDer(out) : Buffer.from(out);
  }

  return {
    type: 'pkcs11',
    getOrCreateIdentityKey(): Promise<IdentityKeyResult> {
      return session((s) => {
        const found = existing(s);
        if (found) return { ...found.key, created: false };
        return { ...generate(s, opts.keyType), created: true };
      });
    },
    publicKey() {
      return session((s) => existing(s)?.key ?? null);
    },
    sign(data: Buffer, scheme: SignatureScheme): Promise<Buffer> {
      return session((s) => {
        const found = existing(s);
        if (!found) throw new NoIdentityKeyError();
        assertSchemeFits(scheme, found.key.keyType);
        const signature = signWith(s, found.priv, data, scheme);
        if (!verifySignature(found.key.spkiDer, data, scheme, signature)) {
          throw new Error(
            `the token's ${scheme} signature does not verify against the identity key`,
          );
        }
        return signature;
      });
    },
    describe() {
      return {
        summary: `${where} (module ${opts.module})`,
        reference: {
          module: opts.module,
          tokenLabel: opts.tokenLabel,
          keyLabel: opts.keyLabel,
          ...(opts.keyId ? { keyId: opts.keyId } : {}),
        },
      };
    },
  };
}
