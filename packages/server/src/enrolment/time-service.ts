import { randomUUID } from 'node:crypto';
import { signTimeStatement, type TimeResponse } from '@trustlink/protocol';
import type { KeyStore } from '../keystore/keystore-types.js';
import type { CaRepo } from '../pki/ca-repo.js';
import {
  KeyUsageFlags,
  buildCertificate,
  randomSerial,
  subjectKeyId,
  subjectNameOf,
} from '../pki/certificate-builder.js';
import { BACKDATE_MS, signerFor } from '../pki/instance-pki.js';
import type { TimeSignerRecord, TimeSignerRepo } from './time-signer-repo.js';

const DAY = 24 * 3600 * 1000;
const LIFETIME_DAYS = 397;
/** A signer with less than this left is replaced before it signs again. */
const RENEW_BEFORE_DAYS = 30;
const ID_KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

export interface TimeServiceDeps {
  repo: TimeSignerRepo;
  keystore: KeyStore;
  caRepo: Pick<CaRepo, 'current'>;
  now?: () => Date;
}

/**
 * Signed time for devices without a clock: `{ v: 1, nonce, time }` as a JWS, signed by a key of
 * its own (never a CA or TLS key) whose certificate the OEM root issues with the
 * timeStamping purpose, so the agent checks it against the root it already pins. The key is
 * a software P-256 key: answering the time must not queue behind an HSM.
 */
export function createTimeService(deps: TimeServiceDeps) {
  const { repo, keystore, caRepo } = deps;
  const now = deps.now ?? (() => new Date());
  const current = new Map<string, Promise<TimeSignerRecord>>();

  async function make(instanceId: string): Promise<TimeSignerRecord> {
    const root = await caRepo.current(instanceId, 'root');
    if (!root) throw new Error(`instance ${instanceId} has no root CA`);
    const rootKey = await keystore.publicKey(instanceId, root.keyId);
    const key = await keystore.generate(instanceId, {
      algorithm: 'P-256',
      label: 'time statements',
      purpose: 'time',
      backend: 'software',
    });
    const t = now();
    const notAfter = new Date(
      Math.min(t.getTime() + LIFETIME_DAYS * DAY, Date.parse(root.notAfter)),
    );
    const der = await buildCertificate(
      {
        serial: randomSerial(),
        issuer: subjectNameOf(root.der),
        subject: `CN=Trustlink time, OU=${instanceId}`,
        notBefore: new Date(t.getTime() - BACKDATE_MS),
        notAfter,
        subjectPublicKeyDer: key.publicKeyDer,
        authorityKeyId: subjectKeyId(rootKey.publicKeyDer),
        keyUsage: KeyUsageFlags.digitalSignature,
        extendedKeyUsage: [ID_KP_TIME_STAMPING],
      },
      signerFor(keystore, instanceId, root.keyId, rootKey.algorithm),
    );
    const rec = {
      id: randomUUID(),
      keyId: key.id,
      der,
      notAfter: notAfter.toISOString(),
      createdAt: t.toISOString(),
    };
    await repo.insert(instanceId, rec);
    return rec;
  }

  async function signer(instanceId: string): Promise<TimeSignerRecord> {
    const fresh = (s: TimeSignerRecord | undefined) =>
      s && Date.parse(s.notAfter) - now().getTime() > RENEW_BEFORE_DAYS * DAY;
    let p = current.get(instanceId);
    if (p) {
      const s = await p.catch(() => undefined);
      if (fresh(s)) return s!;
    }
    // Replicas that race here each make one; the newest is used, and every one chains to the root.
    p = repo.newest(instanceId).then((s) => (fresh(s) ? s! : make(instanceId)));
    current.set(instanceId, p);
    p.catch(() => current.delete(instanceId));
    return p;
  }

  return {
    /** Signs the time now for a device's nonce; the chain is the signer's certificate. */
    async statement(instanceId: string, nonce: string): Promise<TimeResponse> {
      const s = await signer(instanceId);
      const statement = await signTimeStatement(
        { nonce, time: now() },
        {
          kid: s.id,
          keyType: 'P-256',
          sign: async (data, scheme) =>
            keystore.sign(instanceId, s.keyId, Buffer.from(data), scheme),
        },
      );
      return { statement, chain: [s.der.toString('base64url')] };
    },
  };
}
export type TimeService = ReturnType<typeof createTimeService>;
