import type { Kysely } from 'kysely';
import type { AuditContext } from '../audit/audit-types.js';
import type { Database } from '../db/schema.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import { BadRequestError, NotFoundError } from '../lib/errors.js';
import type { CaCertificateRecord, CaRepo } from './ca-repo.js';
import {
  KeyUsageFlags,
  buildCertificate,
  randomSerial,
  subjectKeyId,
  subjectNameOf,
  toPem,
} from './certificate-builder.js';
import { OID_CA_ISSUERS, OID_EXT } from './device-cert-template.js';
import { BACKDATE_MS, caRecord, signerFor } from './instance-pki.js';
import type { PkiAudit } from './pki-audit.js';
import type { PkiUrls } from './pki-urls.js';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  AccessDescription,
  CRLDistributionPoints,
  DistributionPoint,
  DistributionPointName,
  Extension,
  GeneralName,
} from '@peculiar/asn1-x509';

/** Key types an issuing CA may have. */
export const ISSUING_KEY_TYPES = ['P-256', 'P-384', 'RSA-3072'] as const;
export type IssuingKeyType = (typeof ISSUING_KEY_TYPES)[number];

export interface CreateIssuingCaInput {
  name: string;
  lifetimeSeconds: number;
  keyType?: IssuingKeyType;
  autoRenew?: boolean;
}

export interface IssuingCaServiceDeps {
  db: Kysely<Database>;
  caRepo: CaRepo;
  keystore: KeyStore;
  urls: PkiUrls;
  audit: PkiAudit;
  now?: () => Date;
  /** Told about every new issuing CA (the CRL service builds its first CRL). */
  onCreated?: (ca: CaCertificateRecord) => Promise<void> | void;
}

/** Share of an issuing CA's lifetime after which an auto-renewing one gets its successor. */
export const RENEW_AT_FRACTION = 2 / 3;
const MIN_CA_LIFETIME = 3600;

/** When an issuing CA is due for renewal. */
export function renewAt(ca: Pick<CaCertificateRecord, 'notBefore' | 'notAfter'>): Date {
  const nb = Date.parse(ca.notBefore);
  return new Date(nb + (Date.parse(ca.notAfter) - nb) * RENEW_AT_FRACTION);
}

function uriName(uri: string) {
  return new GeneralName({ uniformResourceIdentifier: uri });
}

function ext(extnID: string, value: unknown) {
  return new Extension({
    extnID,
    critical: false,
    extnValue: new OctetString(AsnConvert.serialize(value)),
  });
}

/**
 * Issuing CAs: created per policy under the OEM root (lifetime, key type, auto-renew), and
 * replaced before they expire when they auto-renew. A renewed CA keeps working until its own
 * expiry (devices chained to it stay valid, its CRL and OCSP go on); new certificates come
 * from its successor.
 */
export function createIssuingCaService(deps: IssuingCaServiceDeps) {
  const { db, caRepo, keystore, urls, audit } = deps;
  const now = deps.now ?? (() => new Date());

  async function build(
    instanceId: string,
    input: Required<CreateIssuingCaInput>,
    lineage: { id: string; generation: number } | undefined,
  ): Promise<CaCertificateRecord> {
    const root = await caRepo.current(instanceId, 'root');
    if (!root) throw new Error(`instance ${instanceId} has no root CA`);
    const rootKey = await keystore.publicKey(instanceId, root.keyId);
    const t = now();
    const rootEnd = Date.parse(root.notAfter);
    if (rootEnd <= t.getTime() + MIN_CA_LIFETIME * 1000) {
      throw new BadRequestError('the OEM root expires too soon to issue an issuing CA');
    }
    const key = await keystore.generate(instanceId, {
      algorithm: input.keyType,
      label: `issuing CA ${input.name}`,
      purpose: 'ca',
    });
    try {
      const gen = lineage ? lineage.generation : 1;
      const cn = gen > 1 ? `${input.name} G${gen}` : input.name;
      const der = await buildCertificate(
        {
          serial: randomSerial(),
          issuer: subjectNameOf(root.der),
          subject: `CN=${escapeDn(cn)}, OU=${instanceId}`,
          notBefore: new Date(t.getTime() - BACKDATE_MS),
          notAfter: new Date(Math.min(t.getTime() + input.lifetimeSeconds * 1000, rootEnd)),
          subjectPublicKeyDer: key.publicKeyDer,
          authorityKeyId: subjectKeyId(rootKey.publicKeyDer),
          ca: { pathLength: 0 },
          keyUsage: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
          extraExtensions: [
            ext(
              OID_EXT.cRLDistributionPoints,
              new CRLDistributionPoints([
                new DistributionPoint({
                  distributionPoint: new DistributionPointName({
                    fullName: [uriName(urls.crl(instanceId, root.id))],
                  }),
                }),
              ]),
            ),
            ext(
              OID_EXT.authorityInfoAccess,
              new AuthorityInfoAccessSyntax([
                new AccessDescription({
                  accessMethod: OID_CA_ISSUERS,
                  accessLocation: uriName(urls.caCertificate(instanceId, root.id)),
                }),
              ]),
            ),
          ],
        },
        signerFor(keystore, instanceId, root.keyId, rootKey.algorithm),
      );
      const rec = caRecord(instanceId, 'issuing', input.name, key.id, root.id, der, t);
      rec.autoRenew = input.autoRenew;
      rec.lifetimeSeconds = input.lifetimeSeconds;
      rec.lineageId = lineage?.id ?? rec.id;
      return rec;
    } catch (err) {
      await keystore.delete(instanceId, key.id).catch(() => undefined);
      throw err;
    }
  }

  function normalize(input: CreateIssuingCaInput): Required<CreateIssuingCaInput> {
    const name = input.name.trim();
    if (!name || name.length > 64) throw new BadRequestError('name must be 1 to 64 characters');
    if (!Number.isInteger(input.lifetimeSeconds) || input.lifetimeSeconds < MIN_CA_LIFETIME) {
      throw new BadRequestError(`lifetime must be at least ${MIN_CA_LIFETIME} seconds`);
    }
    return {
      name,
      lifetimeSeconds: input.lifetimeSeconds,
      keyType: input.keyType ?? 'P-256',
      autoRenew: input.autoRenew ?? false,
    };
  }

  /** Creates an issuing CA under the instance's OEM root. */
  async function create(instanceId: string, input: CreateIssuingCaInput, context?: AuditContext) {
    const rec = await build(instanceId, normalize(input), undefined);
    await db.transaction().execute(async (tx) => {
      await caRepo.insert(rec, tx);
      await audit(tx, {
        instanceId,
        context,
        action: 'pki.issuing-ca.create',
        target: { type: 'issuing-ca', id: rec.id, name: rec.name },
        details: {
          name: rec.name,
          keyType: input.keyType ?? 'P-256',
          notAfter: rec.notAfter,
          autoRenew: rec.autoRenew,
        },
      });
    });
    await deps.onCreated?.(rec);
    return rec;
  }

  /**
   * Gives every auto-renewing issuing CA that is due (see renewAt) its successor. Idempotent:
   * a CA is claimed by one conditional update, so running it twice, or on two processes,
   * renews each CA once.
   */
  async function renewDue(instanceId?: string): Promise<CaCertificateRecord[]> {
    const t = now().getTime();
    const made: CaCertificateRecord[] = [];
    for (const ca of await caRepo.renewable(instanceId)) {
      if (renewAt(ca).getTime() > t) continue;
      const lineageId = ca.lineageId ?? ca.id;
      const generation =
        (await caRepo.list(ca.instanceId, 'issuing')).filter(
          (c) => (c.lineageId ?? c.id) === lineageId,
        ).length + 1;
      const key = await keystore.publicKey(ca.instanceId, ca.keyId);
      const next = await build(
        ca.instanceId,
        {
          name: ca.name,
          lifetimeSeconds:
            ca.lifetimeSeconds ??
            Math.round((Date.parse(ca.notAfter) - Date.parse(ca.notBefore)) / 1000),
          keyType: key.algorithm as IssuingKeyType,
          autoRenew: true,
        },
        { id: lineageId, generation },
      );
      const claimed = await db.transaction().execute(async (tx) => {
        if (!(await caRepo.markRenewed(ca.instanceId, ca.id, next.id, tx))) return false;
        await caRepo.insert(next, tx);
        await audit(tx, {
          instanceId: ca.instanceId,
          action: 'pki.issuing-ca.renew',
          target: { type: 'issuing-ca', id: ca.id, name: ca.name },
          details: { successor: next.id, notAfter: next.notAfter },
        });
        return true;
      });
      if (!claimed) {
        await keystore.delete(ca.instanceId, next.keyId).catch(() => undefined);
        continue;
      }
      made.push(next);
      await deps.onCreated?.(next);
    }
    return made;
  }

  async function get(instanceId: string, id: string): Promise<CaCertificateRecord> {
    const ca = await caRepo.find(instanceId, id);
    if (!ca) throw new NotFoundError(`certificate ${id} not found`);
    return ca;
  }

  /** PEM of a certificate, followed by its issuers up to the root when `chain` is set. */
  async function pem(instanceId: string, id: string, chain: boolean): Promise<string> {
    let ca: CaCertificateRecord | undefined = await get(instanceId, id);
    let out = '';
    const seen = new Set<string>();
    while (ca && !seen.has(ca.id)) {
      seen.add(ca.id);
      out += toPem(ca.der);
      if (!chain || !ca.issuerId) break;
      ca = await caRepo.find(instanceId, ca.issuerId);
    }
    return out;
  }

  return { create, renewDue, get, pem };
}
export type IssuingCaService = ReturnType<typeof createIssuingCaService>;

/** Escapes the RFC 4514 special characters of one attribute value. */
function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=#])/g, '\\$1');
}
