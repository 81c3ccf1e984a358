import type { Logger } from 'pino';
import { defaultScheme } from '../keystore/key-algorithms.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import { NotFoundError } from '../lib/errors.js';
import type { CaRepo } from './ca-repo.js';
import { subjectKeyId } from './certificate-builder.js';
import { issuerNameDer } from './cert-fns.js';
import { crlTbs, signedStructure, type RevocationReason } from './crl-fns.js';
import type { DeviceCertRepo } from './device-cert-repo.js';
import type { CrlCandidate, CrlRow, RevocationRepo } from './revocation-repo.js';
import { signatureAlgorithmDer } from './signature-algorithms.js';

export interface CrlServiceDeps {
  caRepo: CaRepo;
  certs: DeviceCertRepo;
  revocations: RevocationRepo;
  keystore: KeyStore;
  now?: () => Date;
  log?: Pick<Logger, 'warn' | 'info'>;
  /** Validity of each CRL (thisUpdate to nextUpdate). */
  validityMs?: number;
  /** How long revocations are gathered before the CRLs are rebuilt. */
  debounceMs?: number;
}

export const CRL_VALIDITY_MS = 24 * 3600 * 1000;
export const CRL_DEBOUNCE_MS = 1000;

/** True when a CA's CRL must be (re)built: none yet, a revocation since, or past half-life. */
export function crlDue(c: CrlCandidate, at: Date): boolean {
  if (c.thisUpdate === null || c.nextUpdate === null) return true;
  if ((c.revision ?? 0) > (c.builtRevision ?? 0)) return true;
  const tu = Date.parse(c.thisUpdate);
  return at.getTime() >= tu + (Date.parse(c.nextUpdate) - tu) / 2;
}

/**
 * One signed CRL per CA (root and issuing). Revocations bump the CA's revision; `poke()` then
 * schedules a rebuild a moment later, so a burst of revocations costs a few signatures, not
 * one each. `rebuildDue` is the idempotent job behind it and behind the periodic timer: it
 * also renews every CRL at half its validity, well before nextUpdate.
 */
export function createCrlService(deps: CrlServiceDeps) {
  const { caRepo, certs, revocations, keystore } = deps;
  const now = deps.now ?? (() => new Date());
  const validityMs = deps.validityMs ?? CRL_VALIDITY_MS;
  const debounceMs = deps.debounceMs ?? CRL_DEBOUNCE_MS;
  const inFlight = new Map<string, Promise<CrlRow>>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let again = false;
  let stopped = false;
  let builds = 0;

  async function doBuild(instanceId: string, issuerId: string): Promise<CrlRow> {
    const ca = await caRepo.find(instanceId, issuerId);
    if (!ca || (ca.kind !== 'root' && ca.kind !== 'issuing')) {
      throw new NotFoundError(`CA ${issuerId} not found`);
    }
    // The revision is read before the entries, so a revocation committed after this read
    // leaves the CRL stale and gets its own rebuild.
    const previous = await revocations.crl(instanceId, issuerId);
    const t = new Date(Math.floor(now().getTime() / 1000) * 1000);
    const rows = await certs.revokedOf(instanceId, issuerId, t.toISOString());
    const key = await keystore.publicKey(instanceId, ca.keyId);
    const scheme = defaultScheme(key.algorithm);
    const algDer = signatureAlgorithmDer(scheme);
    const number = (previous?.number ?? 0) + 1;
    const tbs = crlTbs({
      issuerNameDer: issuerNameDer(ca.der),
      authorityKeyId: subjectKeyId(key.publicKeyDer),
      signatureAlgorithmDer: algDer,
      number,
      thisUpdate: t,
      nextUpdate: new Date(t.getTime() + validityMs),
      entries: rows.map((r) => ({
        serial: r.serial,
        revokedAt: new Date(r.revoked_at!),
        reason: (r.revocation_reason ?? 'unspecified') as RevocationReason,
      })),
    });
    const sig = await keystore.sign(instanceId, ca.keyId, tbs, scheme);
    const row: CrlRow = {
      issuerId,
      number,
      thisUpdate: t.toISOString(),
      nextUpdate: new Date(t.getTime() + validityMs).toISOString(),
      der: signedStructure(tbs, algDer, sig),
      revision: previous?.revision ?? 0,
      builtRevision: previous?.revision ?? 0,
    };
    await revocations.saveCrl(instanceId, row);
    builds++;
    return row;
  }

  /** Builds and stores a CA's CRL now (one build at a time per CA). */
  function build(instanceId: string, issuerId: string): Promise<CrlRow> {
    const k = `${instanceId}/${issuerId}`;
    const running = inFlight.get(k);
    if (running) return running;
    const p = doBuild(instanceId, issuerId).finally(() => inFlight.delete(k));
    inFlight.set(k, p);
    return p;
  }

  /** The CA's current CRL; built once if it has none yet. */
  async function current(instanceId: string, issuerId: string): Promise<CrlRow> {
    return (await revocations.crl(instanceId, issuerId)) ?? build(instanceId, issuerId);
  }

  /** Rebuilds every CRL that is due; returns how many were built. Idempotent. */
  async function rebuildDue(instanceId?: string): Promise<number> {
    const t = now();
    const due = (await revocations.crlCandidates(t.toISOString(), instanceId)).filter((c) =>
      crlDue(c, t),
    );
    let n = 0;
    for (const c of due) {
      try {
        await build(c.instanceId, c.issuerId);
        n++;
      } catch (err) {
        deps.log?.warn({ err, issuer: c.issuerId }, 'CRL rebuild failed; will retry');
      }
    }
    return n;
  }

  function runSoon(): void {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (running) {
        again = true;
        return;
      }
      running = rebuildDue()
        .catch((err) => deps.log?.warn({ err }, 'CRL rebuild failed'))
        .finally(() => {
          running = undefined;
          if (again) {
            again = false;
            runSoon();
          }
        });
    }, debounceMs);
    timer.unref();
  }

  return {
    build,
    current,
    rebuildDue,
    /** Asks for a rebuild soon; calls within the debounce window share one. */
    poke: runSoon,
    /** How many CRLs this process has signed (for tests and metrics). */
    get builds() {
      return builds;
    },
    /** Waits for a scheduled or running rebuild to finish. */
    async settle(): Promise<void> {
      while (timer || running) {
        await (running ?? new Promise((r) => setTimeout(r, debounceMs / 4)));
      }
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
export type CrlService = ReturnType<typeof createCrlService>;
