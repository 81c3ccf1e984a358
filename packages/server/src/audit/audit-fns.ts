import { createHmac, timingSafeEqual } from 'node:crypto';
import type {
  AuditCheckpoint,
  AuditProblem,
  AuditVerification,
  ChainEntry,
  ChainFields,
} from './audit-types.js';

const ENTRY_LABEL = 'trustlink-audit-entry-v1';
const GENESIS_LABEL = 'trustlink-audit-genesis-v1';
const CHECKPOINT_LABEL = 'trustlink-audit-checkpoint-v1';

/** The MAC the chain starts from: keyed, so nobody without the key can start a new chain. */
export function genesisMac(key: Buffer, instanceId: string): string {
  return createHmac('sha256', key)
    .update(JSON.stringify([GENESIS_LABEL, instanceId]))
    .digest('hex');
}

/**
 * MAC of one entry: HMAC-SHA256 over the previous MAC and every stored field, as a JSON array
 * (unambiguous: no field can bleed into the next). The instance is bound in, so rows cannot be
 * moved between instances.
 */
export function entryMac(key: Buffer, instanceId: string, prevMac: string, e: ChainFields): string {
  return createHmac('sha256', key)
    .update(
      JSON.stringify([
        ENTRY_LABEL,
        instanceId,
        prevMac,
        e.seq,
        e.at,
        e.actorType,
        e.actorId,
        e.actorName,
        e.action,
        e.targetType,
        e.targetId,
        e.targetName,
        e.result,
        e.sourceAddress,
        e.details,
      ]),
    )
    .digest('hex');
}

/** The bytes the audit key signs for a checkpoint. */
export function checkpointMessage(
  instanceId: string,
  cp: Pick<AuditCheckpoint, 'seq' | 'mac' | 'at'>,
): Buffer {
  return Buffer.from(JSON.stringify([CHECKPOINT_LABEL, instanceId, cp.seq, cp.mac, cp.at]));
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** A checkpoint with the verdict on its signature (made by the caller, who has the keys). */
export interface CheckedCheckpoint extends AuditCheckpoint {
  signatureValid: boolean;
}

/**
 * Walks the log in sequence order, page by page, and collects every problem with the sequence
 * number where it is. Pure: the caller reads the rows and checks checkpoint signatures.
 *
 * Invariants checked: sequence numbers run 1, 2, 3... without gaps; each entry's MAC is the HMAC
 * of its fields chained on the previous stored MAC; every checkpoint names an entry that exists
 * and carries that entry's MAC; the chain head names the last entry.
 */
export function createChainVerifier(key: Buffer, instanceId: string) {
  let expected = 1;
  let prevMac = genesisMac(key, instanceId);
  let lastSeq = 0;
  let lastMac = prevMac;
  let entries = 0;
  let checkpoints = 0;
  let lastCheckpoint: { seq: number; at: string } | null = null;
  const problems: AuditProblem[] = [];
  const macs = new Map<number, string>();

  const checkCheckpoint = (cp: CheckedCheckpoint) => {
    checkpoints++;
    if (!cp.signatureValid) {
      problems.push({
        seq: cp.seq,
        kind: 'checkpoint-invalid',
        message: `checkpoint at seq ${cp.seq} has an invalid signature (forged or altered)`,
      });
      return;
    }
    const mac = macs.get(cp.seq);
    if (mac === undefined) {
      if (cp.seq > lastSeq) {
        problems.push({
          seq: lastSeq + 1,
          kind: 'truncated',
          message: `the log was cut off: a signed checkpoint proves it reached seq ${cp.seq}, but it ends at seq ${lastSeq}`,
        });
      }
      // Otherwise the entry is missing, which the gap check has reported.
      return;
    }
    if (!sameHex(mac, cp.mac)) {
      problems.push({
        seq: cp.seq,
        kind: 'checkpoint-mismatch',
        message: `entry ${cp.seq} does not match the signed checkpoint at seq ${cp.seq} (entry replaced)`,
      });
      return;
    }
    if (!lastCheckpoint || cp.seq > lastCheckpoint.seq) lastCheckpoint = { seq: cp.seq, at: cp.at };
  };

  return {
    /** Feeds the next entries (ascending) and the checkpoints whose seq falls in their range. */
    add(page: ChainEntry[], pageCheckpoints: CheckedCheckpoint[] = []): void {
      macs.clear();
      for (const e of page) {
        entries++;
        if (e.seq !== expected) {
          const last = e.seq - 1;
          problems.push({
            seq: expected,
            kind: 'missing',
            message:
              expected === last
                ? `entry ${expected} is missing (deleted)`
                : `entries ${expected} to ${last} are missing (deleted)`,
          });
          // The entry after a gap chains on a MAC we no longer have; resume from its own.
        } else if (!sameHex(entryMac(key, instanceId, prevMac, e), e.mac)) {
          problems.push({
            seq: e.seq,
            kind: 'altered',
            message: `entry ${e.seq} was altered (its MAC does not match its contents)`,
          });
        }
        prevMac = e.mac;
        lastMac = e.mac;
        lastSeq = e.seq;
        expected = e.seq + 1;
        macs.set(e.seq, e.mac);
      }
      for (const cp of pageCheckpoints) checkCheckpoint(cp);
    },
    /** Compares the end of the log with the chain head and the checkpoints beyond the last entry. */
    finish(
      head: { seq: number; mac: string } | undefined,
      laterCheckpoints: CheckedCheckpoint[] = [],
    ): Omit<AuditVerification, 'ok'> & { ok: boolean } {
      macs.clear();
      for (const cp of laterCheckpoints) checkCheckpoint(cp);
      if (!head) {
        problems.push({
          seq: null,
          kind: 'head-mismatch',
          message: 'the chain head is missing (the audit tables were tampered with)',
        });
      } else if (head.seq > lastSeq) {
        problems.push({
          seq: lastSeq + 1,
          kind: 'truncated',
          message:
            head.seq === lastSeq + 1
              ? `the log was cut off: entry ${head.seq} is missing from the end`
              : `the log was cut off: entries ${lastSeq + 1} to ${head.seq} are missing from the end`,
        });
      } else if (head.seq < lastSeq) {
        problems.push({
          seq: head.seq + 1,
          kind: 'head-mismatch',
          message: `entries after seq ${head.seq} are not part of the chain (added by hand)`,
        });
      } else if (!sameHex(head.mac, lastMac)) {
        problems.push({
          seq: lastSeq,
          kind: 'head-mismatch',
          message: `the chain head does not match entry ${lastSeq}`,
        });
      }
      problems.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
      return {
        ok: problems.length === 0,
        entries,
        lastSeq,
        headSeq: head?.seq ?? null,
        checkpoints,
        lastCheckpoint,
        uncheckpointed: lastSeq - (lastCheckpoint?.seq ?? 0),
        problems,
      };
    },
  };
}
