import { randomUUID } from 'node:crypto';
import { ForbiddenError, NotFoundError } from '../lib/errors.js';
import type { KeyRepo } from './keystore-repo.js';
import { schemeFitsAlgorithm } from './key-algorithms.js';
import type { BackendKind, KeyBackend, KeyContext, KeyRecord, KeyStore } from './keystore-types.js';
import type { createSoftwareBackend } from './software-backend.js';

export interface KeyStoreDeps {
  repo: KeyRepo;
  software: ReturnType<typeof createSoftwareBackend>;
  /** The HSM backend, when configured; new CA and signing keys then go there. */
  hsm?: KeyBackend;
  now?: () => Date;
}

/**
 * Routes each key to the backend that holds it. The row records the backend, so keys made
 * before an HSM was configured keep working after.
 */
export function createKeyStore(deps: KeyStoreDeps): KeyStore {
  const { repo, software, hsm } = deps;
  const now = deps.now ?? (() => new Date());
  const defaultBackend: BackendKind = hsm ? 'pkcs11' : 'software';
  const backendOf = (kind: BackendKind): KeyBackend => {
    if (kind === 'software') return software;
    if (!hsm)
      throw new ForbiddenError(
        'this key lives in an HSM, and no PKCS#11 module is configured',
        'keystore-unavailable',
      );
    return hsm;
  };
  const load = async (instanceId: string, keyId: string) => {
    const rec = await repo.find(instanceId, keyId);
    if (!rec) throw new NotFoundError(`key ${keyId} not found`);
    return rec;
  };
  const ctxOf = (rec: KeyRecord): KeyContext => ({
    instanceId: rec.instanceId,
    keyId: rec.id,
    label: rec.label,
  });
  const strip = ({ handle: _h, ...rec }: KeyRecord & { handle: Buffer }): KeyRecord => rec;

  return {
    defaultBackend,
    async generate(instanceId, input) {
      // TLS keys must be loadable by Node's TLS stack, so they never go to the HSM.
      const kind = input.purpose === 'tls' ? 'software' : (input.backend ?? defaultBackend);
      const id = randomUUID();
      const ctx = { instanceId, keyId: id, label: input.label };
      const made = await backendOf(kind).generate(input.algorithm, ctx);
      const rec = {
        instanceId,
        id,
        label: input.label,
        algorithm: input.algorithm,
        backend: kind,
        purpose: input.purpose,
        publicKeyDer: made.publicKeyDer,
        handle: made.handle,
        createdAt: now().toISOString(),
        origin: 'generated' as const,
      };
      await repo.insert(rec);
      return strip(rec);
    },
    async import(instanceId, input) {
      // Imported keys were outside a key store once; they are development keys and stay in software.
      const id = randomUUID();
      const made = await software.import(input.pkcs8Der, {
        instanceId,
        keyId: id,
        label: input.label,
      });
      const rec = {
        instanceId,
        id,
        label: input.label,
        algorithm: made.algorithm,
        backend: 'software' as const,
        purpose: input.purpose,
        publicKeyDer: made.publicKeyDer,
        handle: made.handle,
        createdAt: now().toISOString(),
        origin: 'imported' as const,
      };
      await repo.insert(rec);
      return strip(rec);
    },
    async sign(instanceId, keyId, data, scheme) {
      const rec = await load(instanceId, keyId);
      if (!schemeFitsAlgorithm(scheme, rec.algorithm)) {
        throw new Error(`key ${keyId} (${rec.algorithm}) cannot sign with ${scheme}`);
      }
      return backendOf(rec.backend).sign(rec.handle, data, scheme, ctxOf(rec));
    },
    async signer(instanceId, keyId, scheme) {
      const rec = await load(instanceId, keyId);
      if (!schemeFitsAlgorithm(scheme, rec.algorithm)) {
        throw new Error(`key ${keyId} (${rec.algorithm}) cannot sign with ${scheme}`);
      }
      const backend = backendOf(rec.backend);
      const ctx = ctxOf(rec);
      return (data) => backend.sign(rec.handle, data, scheme, ctx);
    },
    async publicKey(instanceId, keyId) {
      return strip(await load(instanceId, keyId));
    },
    async list(instanceId, purpose) {
      return (await repo.list(instanceId, purpose)).map(strip);
    },
    async delete(instanceId, keyId) {
      const rec = await load(instanceId, keyId);
      await repo.delete(instanceId, keyId);
      await backendOf(rec.backend).destroy(rec.handle, ctxOf(rec));
    },
    async tlsPrivateKeyPem(instanceId, keyId) {
      const rec = await load(instanceId, keyId);
      if (rec.purpose !== 'tls' || rec.backend !== 'software') {
        throw new ForbiddenError(
          'only TLS endpoint keys can be loaded into the TLS stack',
          'key-not-exportable',
        );
      }
      return software
        .privateKey(rec.handle, ctxOf(rec))
        .export({ type: 'pkcs8', format: 'pem' }) as string;
    },
    async health() {
      const results = await Promise.all([software.health(), ...(hsm ? [hsm.health()] : [])]);
      const bad = results.find((r) => !r.ok);
      return bad ?? results[results.length - 1]!;
    },
  };
}
