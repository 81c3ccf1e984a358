import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { AuditContext } from '../audit/audit-types.js';
import { algorithmOfKey } from '../keystore/key-algorithms.js';
import type { KeyRecord, KeyStore } from '../keystore/keystore-types.js';
import { BadRequestError, ConflictError, NotFoundError } from '../lib/errors.js';
import { toPem } from './certificate-builder.js';
import type { KeyUsageRegistry } from './key-usage-registry.js';
import type { PkiAudit } from './pki-audit.js';

/** Key types of signing keys: ES256 and PS256 signatures (PROTOCOL.md manifests). */
export const SIGNING_KEY_TYPES = ['P-256', 'RSA-3072'] as const;
export type SigningKeyType = (typeof SIGNING_KEY_TYPES)[number];

/** Prefix of imported (development) keys in listings: they were outside a key store once. */
export const NOHSM_PREFIX = 'nohsm:';

/** A signing key as listed; never any private part. */
export interface SigningKey {
  id: string;
  /** The name given, with `nohsm:` in front for imported keys. */
  name: string;
  algorithm: SigningKeyType;
  type: 'ecdsa' | 'rsa';
  size: number;
  backend: KeyRecord['backend'];
  imported: boolean;
  createdAt: string;
}

export interface SigningKeyServiceDeps {
  keystore: KeyStore;
  usage: KeyUsageRegistry;
  audit: PkiAudit;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;

function view(rec: KeyRecord): SigningKey {
  const imported = rec.origin === 'imported';
  return {
    id: rec.id,
    name: imported ? `${NOHSM_PREFIX}${rec.label}` : rec.label,
    algorithm: rec.algorithm as SigningKeyType,
    type: rec.algorithm.startsWith('P-') ? 'ecdsa' : 'rsa',
    size: rec.algorithm === 'P-256' ? 256 : 3072,
    backend: rec.backend,
    imported,
    createdAt: rec.createdAt,
  };
}

/**
 * Signing keys (firmware and manifests): generated in the key store, or imported from a PEM
 * for development. Only the public part ever leaves; a key a batch uses cannot be deleted.
 */
export function createSigningKeyService(deps: SigningKeyServiceDeps) {
  const { keystore, usage, audit } = deps;

  async function checkName(instanceId: string, name: string): Promise<string> {
    const n = name.trim();
    if (!NAME.test(n)) {
      throw new BadRequestError(
        'name must be 1 to 64 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit',
      );
    }
    const taken = (await keystore.list(instanceId, 'signing')).some(
      (k) => k.label.toLowerCase() === n.toLowerCase(),
    );
    if (taken) throw new ConflictError(`a signing key named "${n}" exists`, 'name-taken');
    return n;
  }

  async function get(instanceId: string, id: string): Promise<KeyRecord> {
    const rec = await keystore.publicKey(instanceId, id).catch(() => undefined);
    if (!rec || rec.purpose !== 'signing') throw new NotFoundError(`signing key ${id} not found`);
    return rec;
  }

  return {
    async list(instanceId: string): Promise<SigningKey[]> {
      return (await keystore.list(instanceId, 'signing')).map(view);
    },
    async get(instanceId: string, id: string): Promise<SigningKey> {
      return view(await get(instanceId, id));
    },
    /** Generates a key in the configured key store (the HSM when there is one). */
    async generate(
      instanceId: string,
      input: { name: string; algorithm: SigningKeyType },
      context?: AuditContext,
    ): Promise<SigningKey> {
      const label = await checkName(instanceId, input.name);
      const rec = await keystore.generate(instanceId, {
        algorithm: input.algorithm,
        label,
        purpose: 'signing',
      });
      await audit(undefined, {
        instanceId,
        context,
        action: 'pki.signing-key.generate',
        target: { type: 'signing-key', id: rec.id, name: label },
        details: { algorithm: rec.algorithm, backend: rec.backend },
      });
      return view(rec);
    },
    /** Imports a development key from PEM (PKCS#8, SEC1 or PKCS#1; not encrypted). */
    async import(
      instanceId: string,
      input: { name: string; privateKeyPem: string },
      context?: AuditContext,
    ): Promise<SigningKey> {
      const label = await checkName(instanceId, input.name);
      let key: KeyObject;
      try {
        key = createPrivateKey({ key: input.privateKeyPem, format: 'pem' });
      } catch {
        throw new BadRequestError(
          'privateKeyPem is not an unencrypted PEM private key (BEGIN PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)',
        );
      }
      const algorithm = algorithmOfKey(key);
      if (algorithm !== 'P-256' && algorithm !== 'RSA-3072') {
        throw new BadRequestError(
          'signing keys are ECDSA P-256 or RSA-3072',
          undefined,
          'key-type-not-accepted',
        );
      }
      const pkcs8Der = key.export({ type: 'pkcs8', format: 'der' });
      try {
        const rec = await keystore.import(instanceId, { pkcs8Der, label, purpose: 'signing' });
        await audit(undefined, {
          instanceId,
          context,
          action: 'pki.signing-key.import',
          target: { type: 'signing-key', id: rec.id, name: `${NOHSM_PREFIX}${label}` },
          details: { algorithm: rec.algorithm },
        });
        return view(rec);
      } finally {
        pkcs8Der.fill(0);
      }
    },
    /** The public key as SubjectPublicKeyInfo PEM. */
    async publicKeyPem(instanceId: string, id: string): Promise<string> {
      return toPem((await get(instanceId, id)).publicKeyDer, 'PUBLIC KEY');
    },
    /** Deletes a key no registered domain uses; its material goes too (HSM objects included). */
    async delete(instanceId: string, id: string, context?: AuditContext): Promise<void> {
      const rec = await get(instanceId, id);
      const uses = await usage.usesOf(instanceId, id);
      if (uses.length) {
        await audit(undefined, {
          instanceId,
          context,
          action: 'pki.signing-key.delete',
          result: 'denied',
          target: { type: 'signing-key', id, name: rec.label },
          details: { usedBy: uses },
        });
        throw new ConflictError(
          `signing key "${rec.label}" is in use by ${uses.join(', ')}`,
          'key-in-use',
          {
            usedBy: uses,
          },
        );
      }
      await keystore.delete(instanceId, id);
      await audit(undefined, {
        instanceId,
        context,
        action: 'pki.signing-key.delete',
        target: { type: 'signing-key', id, name: rec.label },
      });
    },
  };
}
export type SigningKeyService = ReturnType<typeof createSigningKeyService>;
