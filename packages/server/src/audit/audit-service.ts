import { randomBytes, verify as verifySignature } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db, Executor } from '../db/database.js';
import type { KeyStore } from '../keystore/keystore-types.js';
import type { SealContext, SecretBox } from '../secrets/secret-box.js';
import {
  checkpointMessage,
  createChainVerifier,
  entryMac,
  genesisMac,
  type CheckedCheckpoint,
} from './audit-fns.js';
import { createAuditRepo } from './audit-repo.js';
import type {
  AuditCheckpoint,
  AuditEntry,
  AuditEvent,
  AuditQuery,
  AuditVerification,
  ChainEntry,
  ChainFields,
} from './audit-types.js';

const VERIFY_PAGE = 1000;
const MAX_DETAILS_CHARS = 8000;

export interface AuditServiceDeps {
  db: Db;
  box: SecretBox;
  keystore: KeyStore;
  now: () => Date;
  /** Seconds after an append before a checkpoint is signed; 0 signs none automatically. */
  checkpointSeconds: number;
  log?: Pick<Logger, 'warn'>;
}

const sealContext = (instanceId: string): SealContext => ({
  instanceId,
  table: 'audit_chain',
  row: instanceId,
  column: 'chain_key',
});

/** Turns a stored row into what the API shows. */
export function toAuditEntry(e: ChainEntry): AuditEntry {
  let details: Record<string, unknown>;
  try {
    details = JSON.parse(e.details) as Record<string, unknown>;
  } catch {
    details = { unparsable: e.details };
  }
  return {
    seq: e.seq,
    at: e.at,
    actor: { type: e.actorType as AuditEntry['actor']['type'], id: e.actorId, name: e.actorName },
    action: e.action,
    target: e.targetType ? { type: e.targetType, id: e.targetId, name: e.targetName } : null,
    result: e.result as AuditEntry['result'],
    sourceAddress: e.sourceAddress,
    details,
  };
}

/**
 * The audit log: append-only, HMAC-chained with a key sealed under the master key, and
 * checkpointed with signatures by an 'audit' key in the key store. Other domains call
 * `record`, inside their own transaction when the event belongs to a state change, so the
 * change and its entry commit (or vanish) together. See docs/audit-log.md.
 */
export function createAuditService(deps: AuditServiceDeps) {
  const { db, box, keystore, now } = deps;
  const repo = createAuditRepo(db.kysely);
  const chainKeys = new Map<string, Buffer>();
  /**
   * The chain head each caller's transaction last wrote (enrolment appends twice in one: the
   * PKI's entry and the device's), forgotten with the transaction object.
   */
  const heldHeads = new WeakMap<Executor, { instanceId: string; seq: number; mac: string }>();
  const pending = new Map<string, NodeJS.Timeout>();
  // Instances with entries no checkpoint covers yet; stop() signs them.
  const dirty = new Set<string>();
  let closed = false;

  const chainKey = async (instanceId: string, tx: Executor): Promise<Buffer> => {
    const cached = chainKeys.get(instanceId);
    if (cached) return cached;
    const head = await repo.findHead(instanceId, tx);
    if (!head) throw new Error(`audit chain of instance ${instanceId} is not initialised`);
    const key = box.open(head.chainKey, sealContext(instanceId));
    chainKeys.set(instanceId, key);
    return key;
  };

  async function checkpoint(instanceId: string): Promise<AuditCheckpoint | undefined> {
    const head = await repo.findHead(instanceId);
    if (!head || head.seq === 0) return undefined;
    if ((await repo.lastCheckpointSeq(instanceId)) >= head.seq) return undefined;
    const at = now().toISOString();
    const body = { seq: head.seq, mac: head.mac, at };
    const sig = await keystore.sign(
      instanceId,
      head.signingKeyId,
      checkpointMessage(instanceId, body),
      'ecdsa-sha256',
    );
    const cp = { ...body, keyId: head.signingKeyId, signature: sig.toString('base64') };
    await repo.insertCheckpoint(instanceId, cp);
    return cp;
  }

  const schedule = (instanceId: string) => {
    dirty.add(instanceId);
    if (closed || deps.checkpointSeconds <= 0 || pending.has(instanceId)) return;
    const timer = setTimeout(() => {
      pending.delete(instanceId);
      dirty.delete(instanceId);
      checkpoint(instanceId).catch((err: unknown) =>
        deps.log?.warn({ err }, 'audit checkpoint failed; the next append retries'),
      );
    }, deps.checkpointSeconds * 1000);
    timer.unref();
    pending.set(instanceId, timer);
  };

  /** Proves a checkpoint key is the key store's: it signs a fresh nonce that its public key verifies. */
  const trustedKeys = async (instanceId: string, keyIds: Set<string>) => {
    const out = new Map<string, Buffer | null>();
    for (const keyId of keyIds) {
      try {
        const rec = await keystore.publicKey(instanceId, keyId);
        const nonce = randomBytes(32);
        const sig = await keystore.sign(instanceId, keyId, nonce, 'ecdsa-sha256');
        const spki = { key: rec.publicKeyDer, format: 'der', type: 'spki' } as const;
        const ok = rec.purpose === 'audit' && verifySignature('sha256', nonce, spki, sig);
        out.set(keyId, ok ? rec.publicKeyDer : null);
      } catch {
        out.set(keyId, null);
      }
    }
    return out;
  };

  return {
    /**
     * Creates the chain of an instance on first use: a random chain key sealed under the master
     * key, and a P-256 checkpoint key in the key store. Safe to call on every start.
     */
    async ensureChain(instanceId: string): Promise<void> {
      if (await repo.findHead(instanceId)) return;
      const signing = await keystore.generate(instanceId, {
        algorithm: 'P-256',
        label: 'audit log checkpoints',
        purpose: 'audit',
      });
      const key = randomBytes(32);
      const created = await repo.insertHead(instanceId, {
        chainKey: box.seal(key, sealContext(instanceId)),
        signingKeyId: signing.id,
        seq: 0,
        mac: genesisMac(key, instanceId),
        at: now().toISOString(),
      });
      // Another process created the chain at the same moment; its key wins.
      if (!created) await keystore.delete(instanceId, signing.id);
    },

    /**
     * Appends one entry. With `tx`, it joins the caller's transaction and holds the chain-head
     * lock until that commits: call it last in the transaction to keep the lock short.
     */
    async record(event: AuditEvent, tx?: Executor): Promise<{ seq: number }> {
      let details = JSON.stringify(event.details ?? {});
      if (details.length > MAX_DETAILS_CHARS) {
        details = JSON.stringify({ truncated: details.slice(0, MAX_DETAILS_CHARS) });
      }
      const append = async (t: Executor) => {
        // A transaction that appended already holds the head's lock (the row lock on
        // PostgreSQL, the write lock on SQLite) until it ends, so nobody else has moved the head
        // since: its own last append is the head, without locking and reading it again.
        const held = heldHeads.get(t);
        const head =
          held && held.instanceId === event.instanceId
            ? held
            : await repo.lockHead(event.instanceId, t);
        if (!head)
          throw new Error(`audit chain of instance ${event.instanceId} is not initialised`);
        const key = await chainKey(event.instanceId, t);
        const fields: ChainFields = {
          seq: head.seq + 1,
          at: now().toISOString(),
          actorType: event.actor.type,
          actorId: event.actor.id ?? null,
          actorName: event.actor.name,
          action: event.action,
          targetType: event.target?.type ?? null,
          targetId: event.target?.id ?? null,
          targetName: event.target?.name ?? null,
          result: event.result,
          sourceAddress: event.sourceAddress ?? null,
          details,
        };
        const mac = entryMac(key, event.instanceId, head.mac, fields);
        await repo.insertEntry(event.instanceId, { ...fields, mac }, t);
        await repo.advanceHead(event.instanceId, fields.seq, mac, fields.at, t);
        // Only a real transaction holds the lock; a bare connection handed in as `tx` does not.
        if (tx && t.isTransaction)
          heldHeads.set(t, { instanceId: event.instanceId, seq: fields.seq, mac });
        return fields.seq;
      };
      const seq = tx ? await append(tx) : await db.kysely.transaction().execute(append);
      schedule(event.instanceId);
      return { seq };
    },

    /** The newest `limit` entries (the dashboard's "last activity"). */
    async recent(instanceId: string, limit: number): Promise<AuditEntry[]> {
      return (await repo.query(instanceId, { limit })).map(toAuditEntry);
    },

    /** A page of the log, newest first, with filters; `nextBefore` continues it. */
    async list(
      instanceId: string,
      q: AuditQuery,
    ): Promise<{ entries: AuditEntry[]; nextBefore: number | null }> {
      const rows = await repo.query(instanceId, { ...q, limit: q.limit + 1 });
      const page = rows.slice(0, q.limit);
      const more = rows.length > q.limit;
      return {
        entries: page.map(toAuditEntry),
        nextBefore: more ? (page[page.length - 1]?.seq ?? null) : null,
      };
    },

    /** Signs a checkpoint over the current head, unless one already covers it. */
    checkpoint,

    /** Recomputes the whole chain and checks every checkpoint; names each problem's seq. */
    async verify(instanceId: string): Promise<AuditVerification> {
      const head = await repo.findHead(instanceId);
      const fail = (message: string): AuditVerification => ({
        ok: false,
        entries: 0,
        lastSeq: 0,
        headSeq: head?.seq ?? null,
        checkpoints: 0,
        lastCheckpoint: null,
        uncheckpointed: 0,
        problems: [{ seq: null, kind: 'key', message }],
      });
      if (!head)
        return fail('the audit chain head is missing (the audit tables were tampered with)');
      let key: Buffer;
      try {
        key = box.open(head.chainKey, sealContext(instanceId));
      } catch (err) {
        return fail(`the audit chain key cannot be opened: ${(err as Error).message}`);
      }
      const verifier = createChainVerifier(key, instanceId);
      const keys = new Map<string, Buffer | null>();
      const check = async (cps: AuditCheckpoint[]): Promise<CheckedCheckpoint[]> => {
        const unknown = new Set(cps.map((c) => c.keyId).filter((k) => !keys.has(k)));
        for (const [k, v] of await trustedKeys(instanceId, unknown)) keys.set(k, v);
        return cps.map((cp) => {
          const pub = keys.get(cp.keyId);
          const signatureValid =
            !!pub &&
            verifySignature(
              'sha256',
              checkpointMessage(instanceId, cp),
              { key: pub, format: 'der', type: 'spki' },
              Buffer.from(cp.signature, 'base64'),
            );
          return { ...cp, signatureValid };
        });
      };
      let after = 0;
      for (;;) {
        const page = await repo.pageAscending(instanceId, after, VERIFY_PAGE);
        const last = page[page.length - 1];
        if (!last) break;
        verifier.add(page, await check(await repo.checkpoints(instanceId, after + 1, last.seq)));
        after = last.seq;
      }
      return verifier.finish(head, await check(await repo.checkpoints(instanceId, after + 1)));
    },

    /** Stops the timers and signs the checkpoints that were due. */
    async close(): Promise<void> {
      closed = true;
      for (const t of pending.values()) clearTimeout(t);
      pending.clear();
      const due = [...dirty];
      dirty.clear();
      for (const instanceId of due) {
        await checkpoint(instanceId).catch((err: unknown) =>
          deps.log?.warn({ err }, 'audit checkpoint at stop failed'),
        );
      }
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
