import {
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import type * as Pkcs11js from 'pkcs11js';
import { BadRequestError } from '../lib/errors.js';
import { algorithmOfKey, hashOfScheme } from './key-algorithms.js';
import type { KeyAlgorithm, KeyBackend, KeyContext, SignatureScheme } from './keystore-types.js';
import { openPkcs11Module, pkcs11js } from './pkcs11-module.js';
import { digestInfo, ecdsaRawToDer, ecPointFromAttribute, ecSpki } from './pkcs11-fns.js';

export interface Pkcs11Options {
  /** Path of the PKCS#11 library (operator configuration only: loading it runs its code). */
  module: string;
  tokenLabel: string;
  /** User PIN of the token. */
  pin: string;
}

const CURVE_OIDS = {
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'),
  'P-384': Buffer.from('06052b81040022', 'hex'),
} as const;

/**
 * Key store backend for any PKCS#11 token. Keys are generated in (or imported into) the token
 * as non-extractable, sensitive objects; the handle kept in the database is the object id
 * (CKA_ID), never key material. Signing hashes in Node and asks the token for the raw
 * operation (CKM_ECDSA, CKM_RSA_PKCS, CKM_RSA_PKCS_PSS), which every token offers (SoftHSM2
 * has no CKM_ECDSA_SHA256).
 */
export function createPkcs11Backend(opts: Pkcs11Options): KeyBackend & { close(): void } {
  const lib = pkcs11js();
  const mod = openPkcs11Module(opts.module);
  const p11 = mod.p11;
  let session: Pkcs11js.Handle | undefined;
  const privateHandles = new Map<string, Pkcs11js.Handle>();

  function findSlot(): Pkcs11js.Handle {
    for (const slot of p11.C_GetSlotList(true)) {
      if (p11.C_GetTokenInfo(slot).label.trim() === opts.tokenLabel) return slot;
    }
    throw new Error(`PKCS#11: no token labelled "${opts.tokenLabel}" in ${opts.module}`);
  }

  function openSession(): Pkcs11js.Handle {
    const s = p11.C_OpenSession(findSlot(), lib.CKF_SERIAL_SESSION | lib.CKF_RW_SESSION);
    try {
      p11.C_Login(s, lib.CKU_USER, opts.pin);
    } catch (err) {
      if ((err as { code?: number }).code !== lib.CKR_USER_ALREADY_LOGGED_IN) {
        p11.C_CloseSession(s);
        throw new Error(`PKCS#11: login to token "${opts.tokenLabel}" failed (check the PIN)`);
      }
    }
    return s;
  }

  /** The long-lived session; reopened once when the token dropped it. */
  function withSession<T>(fn: (s: Pkcs11js.Handle) => T): T {
    session ??= openSession();
    try {
      return fn(session);
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (
        code === lib.CKR_SESSION_HANDLE_INVALID ||
        code === lib.CKR_SESSION_CLOSED ||
        code === lib.CKR_USER_NOT_LOGGED_IN
      ) {
        privateHandles.clear();
        session = openSession();
        return fn(session);
      }
      throw err;
    }
  }

  function find(s: Pkcs11js.Handle, template: Pkcs11js.Template): Pkcs11js.Handle[] {
    p11.C_FindObjectsInit(s, template);
    try {
      return p11.C_FindObjects(s, 16);
    } finally {
      p11.C_FindObjectsFinal(s);
    }
  }

  function privateKey(s: Pkcs11js.Handle, id: Buffer): Pkcs11js.Handle {
    const k = id.toString('hex');
    let h = privateHandles.get(k);
    if (!h) {
      h = find(s, [
        { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
        { type: lib.CKA_ID, value: id },
      ])[0];
      if (!h) throw new Error(`PKCS#11: no private key with id ${k} in token "${opts.tokenLabel}"`);
      privateHandles.set(k, h);
    }
    return h;
  }

  function publicKeyDer(s: Pkcs11js.Handle, pub: Pkcs11js.Handle, algorithm: KeyAlgorithm): Buffer {
    if (algorithm === 'P-256' || algorithm === 'P-384') {
      const [attr] = p11.C_GetAttributeValue(s, pub, [{ type: lib.CKA_EC_POINT }]);
      return ecSpki(algorithm, ecPointFromAttribute(attr!.value as Buffer));
    }
    const [n, e] = p11.C_GetAttributeValue(s, pub, [
      { type: lib.CKA_MODULUS },
      { type: lib.CKA_PUBLIC_EXPONENT },
    ]);
    return createPublicKey({
      key: {
        kty: 'RSA',
        n: (n!.value as Buffer).toString('base64url'),
        e: (e!.value as Buffer).toString('base64url'),
      },
      format: 'jwk',
    }).export({ type: 'spki', format: 'der' });
  }

  const label = (ctx: KeyContext) => `${ctx.label} (${ctx.keyId})`.slice(0, 128);

  return {
    kind: 'pkcs11',
    async generate(algorithm, ctx) {
      const id = randomBytes(16);
      const common = [
        { type: lib.CKA_TOKEN, value: true },
        { type: lib.CKA_ID, value: id },
        { type: lib.CKA_LABEL, value: label(ctx) },
      ];
      const ec = algorithm === 'P-256' || algorithm === 'P-384';
      const pubTemplate = [
        ...common,
        { type: lib.CKA_VERIFY, value: true },
        ...(ec
          ? [{ type: lib.CKA_EC_PARAMS, value: CURVE_OIDS[algorithm] }]
          : [
              { type: lib.CKA_MODULUS_BITS, value: algorithm === 'RSA-2048' ? 2048 : 3072 },
              { type: lib.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
            ]),
      ];
      const privTemplate = [
        ...common,
        { type: lib.CKA_PRIVATE, value: true },
        { type: lib.CKA_SENSITIVE, value: true },
        { type: lib.CKA_EXTRACTABLE, value: false },
        { type: lib.CKA_SIGN, value: true },
      ];
      // Generation can take long (RSA): it runs off the event loop, in its own session.
      const s = openSession();
      try {
        const pair = await p11.C_GenerateKeyPairAsync(
          s,
          { mechanism: ec ? lib.CKM_EC_KEY_PAIR_GEN : lib.CKM_RSA_PKCS_KEY_PAIR_GEN },
          pubTemplate,
          privTemplate,
        );
        return { publicKeyDer: publicKeyDer(s, pair.publicKey, algorithm), handle: id };
      } finally {
        p11.C_CloseSession(s);
      }
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
      const jwk = key.export({ format: 'jwk' });
      const b = (v: string | undefined) => Buffer.from(v ?? '', 'base64url');
      const id = randomBytes(16);
      const common = [
        { type: lib.CKA_TOKEN, value: true },
        { type: lib.CKA_ID, value: id },
        { type: lib.CKA_LABEL, value: label(ctx) },
      ];
      const ec = algorithm === 'P-256' || algorithm === 'P-384';
      const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
      withSession((s) => {
        p11.C_CreateObject(s, [
          ...common,
          { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
          { type: lib.CKA_KEY_TYPE, value: ec ? lib.CKK_EC : lib.CKK_RSA },
          { type: lib.CKA_PRIVATE, value: true },
          { type: lib.CKA_SENSITIVE, value: true },
          { type: lib.CKA_EXTRACTABLE, value: false },
          { type: lib.CKA_SIGN, value: true },
          ...(ec
            ? [
                { type: lib.CKA_EC_PARAMS, value: CURVE_OIDS[algorithm] },
                { type: lib.CKA_VALUE, value: b(jwk.d) },
              ]
            : [
                { type: lib.CKA_MODULUS, value: b(jwk.n) },
                { type: lib.CKA_PUBLIC_EXPONENT, value: b(jwk.e) },
                { type: lib.CKA_PRIVATE_EXPONENT, value: b(jwk.d) },
                { type: lib.CKA_PRIME_1, value: b(jwk.p) },
                { type: lib.CKA_PRIME_2, value: b(jwk.q) },
                { type: lib.CKA_EXPONENT_1, value: b(jwk.dp) },
                { type: lib.CKA_EXPONENT_2, value: b(jwk.dq) },
                { type: lib.CKA_COEFFICIENT, value: b(jwk.qi) },
              ]),
        ]);
      });
      return { algorithm, publicKeyDer: spki, handle: id };
    },
    async sign(handle, data, scheme: SignatureScheme) {
      const hash = hashOfScheme(scheme);
      const digest = createHash(hash).update(data).digest();
      return withSession((s) => {
        const key = privateKey(s, handle);
        if (scheme.startsWith('ecdsa')) {
          p11.C_SignInit(s, { mechanism: lib.CKM_ECDSA }, key);
          return ecdsaRawToDer(p11.C_Sign(s, digest, Buffer.alloc(132)));
        }
        if (scheme.startsWith('rsa-pss')) {
          p11.C_SignInit(
            s,
            {
              mechanism: lib.CKM_RSA_PKCS_PSS,
              parameter: {
                type: lib.CK_PARAMS_RSA_PSS,
                hashAlg: hash === 'sha256' ? lib.CKM_SHA256 : lib.CKM_SHA384,
                mgf: hash === 'sha256' ? lib.CKG_MGF1_SHA256 : lib.CKG_MGF1_SHA384,
                saltLen: hash === 'sha256' ? 32 : 48,
              } as Pkcs11js.RsaPSS,
            },
            key,
          );
          return Buffer.from(p11.C_Sign(s, digest, Buffer.alloc(512)));
        }
        p11.C_SignInit(s, { mechanism: lib.CKM_RSA_PKCS }, key);
        return Buffer.from(p11.C_Sign(s, digestInfo(hash, digest), Buffer.alloc(512)));
      });
    },
    async destroy(handle) {
      withSession((s) => {
        for (const h of find(s, [{ type: lib.CKA_ID, value: handle }])) p11.C_DestroyObject(s, h);
      });
      privateHandles.delete(handle.toString('hex'));
    },
    async health() {
      try {
        const info = p11.C_GetTokenInfo(findSlot());
        withSession(() => undefined);
        return {
          ok: true,
          backend: 'pkcs11' as const,
          detail: `token "${info.label.trim()}" (${info.manufacturerID.trim()} ${info.model.trim()})`,
        };
      } catch (err) {
        return { ok: false, backend: 'pkcs11' as const, detail: (err as Error).message };
      }
    },
    close() {
      if (session !== undefined) {
        try {
          p11.C_CloseSession(session);
        } catch {
          /* the module is released below either way */
        }
      }
      session = undefined;
      privateHandles.clear();
      mod.release();
    },
  };
}
