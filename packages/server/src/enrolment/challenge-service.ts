import { createHash, randomBytes } from 'node:crypto';
import {
  issueChallenge,
  verifyProof,
  type Challenge,
  type KeyType,
  type ProofPurpose,
  type ProofRequest,
  type VerifiedProof,
} from '@trustlink/protocol';
import type { SecretBox } from '../secrets/secret-box.js';
import type { ChallengeRepo } from './challenge-repo.js';

/** A proof that was refused, with the reason for the audit log (never for the device). */
export type ProofCheck =
  | { ok: true; proof: VerifiedProof }
  | { ok: false; reason: string; detail: string; replay: boolean };

export interface ChallengeServiceDeps {
  repo: ChallengeRepo;
  box: SecretBox;
  now?: () => Date;
}

const sealContext = (instanceId: string) => ({
  instanceId,
  table: 'challenge_keys',
  row: instanceId,
  column: 'secret',
});

/**
 * Challenge nonces and Trustlink-Proof checks. Each instance has its own 32-byte MAC key,
 * made once and sealed under the master key in the database, so every replica checks the
 * same nonces and a restart keeps them valid. A nonce is burnt on its first accepted use (kept
 * until it expires), so a proof can never be replayed, not even on another replica.
 */
export function createChallengeService(deps: ChallengeServiceDeps) {
  const { repo, box } = deps;
  const now = deps.now ?? (() => new Date());
  const keys = new Map<string, Promise<Buffer>>();

  async function loadKey(instanceId: string): Promise<Buffer> {
    let sealed = await repo.findKey(instanceId);
    if (!sealed) {
      await repo.insertKeyIfAbsent(
        instanceId,
        box.seal(randomBytes(32), sealContext(instanceId)),
        now().toISOString(),
      );
      sealed = await repo.findKey(instanceId);
    }
    return box.open(sealed!, sealContext(instanceId));
  }

  function key(instanceId: string): Promise<Buffer> {
    let k = keys.get(instanceId);
    if (!k) {
      k = loadKey(instanceId);
      keys.set(instanceId, k);
      k.catch(() => keys.delete(instanceId));
    }
    return k;
  }

  return {
    async issue(instanceId: string): Promise<Challenge> {
      return issueChallenge(await key(instanceId), now());
    },
    /**
     * Checks a Trustlink-Proof header against the request as received (raw body, the host name
     * the server answers to) and burns its nonce. A used or expired nonce is a `replay`.
     */
    async check(
      instanceId: string,
      header: string | undefined,
      request: ProofRequest,
      purpose: ProofPurpose,
      keyTypes?: readonly KeyType[],
    ): Promise<ProofCheck> {
      const r = verifyProof(header, request, {
        purpose,
        challengeKey: await key(instanceId),
        now: now(),
        ...(keyTypes ? { keyTypes } : {}),
      });
      if (!r.ok) {
        return {
          ok: false,
          reason: `proof ${r.reason}`,
          detail: r.detail,
          replay: r.reason === 'challenge-expired',
        };
      }
      const hash = createHash('sha256').update(r.nonce).digest('hex');
      if (!(await repo.burn(instanceId, hash, r.nonceExpiresAt.toISOString()))) {
        return {
          ok: false,
          reason: 'proof challenge-replayed',
          detail: 'the challenge nonce was already used',
          replay: true,
        };
      }
      return { ok: true, proof: r };
    },
    purgeExpired: () => repo.purgeExpired(now().toISOString()),
  };
}
export type ChallengeService = ReturnType<typeof createChallengeService>;
