import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import type { CaCertificateRecord, CaRepo } from './ca-repo.js';
import { createCrlService } from './crl-service.js';
import { createDeviceCertRepo } from './device-cert-repo.js';
import { createDeviceCertService } from './device-cert-service.js';
import { createIssuanceEngine } from './issuance-engine.js';
import { createIssuingCaService, renewAt } from './issuing-ca-service.js';
import { createOcspService } from './ocsp-service.js';
import type { PkiAudit } from './pki-audit.js';
import { createPkiJobs } from './pki-jobs.js';
import type { PkiUrls } from './pki-urls.js';
import { createRevocationRepo } from './revocation-repo.js';
import { createKeyUsageRegistry } from './key-usage-registry.js';
import { createSigningKeyService } from './signing-key-service.js';
import type { JobLease } from '../jobs/job-leases.js';

export interface PkiModuleDeps {
  db: Kysely<Database>;
  keystore: KeyStore;
  caRepo: CaRepo;
  urls: PkiUrls;
  audit: PkiAudit;
  now?: () => Date;
  log?: Pick<Logger, 'warn' | 'info'>;
  crlDebounceMs?: number;
  jobIntervalMs?: number;
  /** Runs the PKI jobs on one replica of several (jobs/job-leases.ts). */
  lease?: JobLease;
}

/** A CA certificate as listed: valid, expired, or (an issuing CA that issued nothing) not used. */
export type CaStatus = 'valid' | 'expired' | 'not used';
export interface ListedCaCertificate extends CaCertificateRecord {
  status: CaStatus;
  issuedCount: number;
  renewAt: string | null;
}

/**
 * The PKI services of the server, wired once: issuance engine, issuing CAs, device
 * certificates, CRLs, OCSP and the background jobs.
 */
export function createPki(deps: PkiModuleDeps) {
  const { db, keystore, caRepo, urls, audit } = deps;
  const now = deps.now ?? (() => new Date());
  const certs = createDeviceCertRepo(db);
  const revocations = createRevocationRepo(db);
  const engine = createIssuanceEngine({ caRepo, keystore, urls, now });
  const crl = createCrlService({
    caRepo,
    certs,
    revocations,
    keystore,
    now,
    log: deps.log,
    debounceMs: deps.crlDebounceMs,
  });
  const ocsp = createOcspService({ caRepo, certs, revocations, keystore, now });
  const caListeners = new Set<(ca: CaCertificateRecord) => void>();
  const issuingCas = createIssuingCaService({
    db,
    caRepo,
    keystore,
    urls,
    audit,
    now,
    onCreated: async (ca) => {
      engine.forget(ca.instanceId);
      ocsp.forgetIssuers(ca.instanceId);
      await crl.build(ca.instanceId, ca.id);
      for (const l of caListeners) l(ca);
    },
  });
  const deviceCerts = createDeviceCertService({
    db,
    engine,
    certs,
    revocations,
    caRepo,
    crl,
    audit,
    now,
  });
  const keyUsage = createKeyUsageRegistry();
  const signingKeys = createSigningKeyService({ keystore, usage: keyUsage, audit });
  const jobs = createPkiJobs({
    crl,
    issuingCas,
    log: deps.log,
    intervalMs: deps.jobIntervalMs,
    lease: deps.lease,
  });

  /** Root, issuing and TLS certificates with their status. */
  async function listCertificates(instanceId: string): Promise<ListedCaCertificate[]> {
    const counts = await certs.countByIssuer(instanceId);
    const t = now().getTime();
    return (await caRepo.list(instanceId)).map((c) => {
      const issuedCount = counts.get(c.id) ?? 0;
      const status: CaStatus =
        Date.parse(c.notAfter) <= t
          ? 'expired'
          : c.kind === 'issuing' && issuedCount === 0
            ? 'not used'
            : 'valid';
      return {
        ...c,
        status,
        issuedCount,
        renewAt: c.kind === 'issuing' && c.autoRenew ? renewAt(c).toISOString() : null,
      };
    });
  }

  return {
    caRepo,
    urls,
    engine,
    crl,
    ocsp,
    issuingCas,
    deviceCerts,
    signingKeys,
    /** Other domains register here the check that a key is in use (see key-usage-registry). */
    keyUsage,
    jobs,
    listCertificates,
    /** Told after an issuing CA is created or renewed (brokers add it to their trusted set). */
    onIssuingCaCreated(listener: (ca: CaCertificateRecord) => void): () => void {
      caListeners.add(listener);
      return () => caListeners.delete(listener);
    },
    stop: async () => {
      crl.stop();
      await jobs.stop();
    },
  };
}
export type Pki = ReturnType<typeof createPki>;
