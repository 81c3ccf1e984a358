import type { KeyObject } from 'node:crypto';
import type { KeyType } from '@trustlink/protocol';
import { parseCsr, type ParsedCsr } from '../pki/csr-fns.js';
import { verifyCsrSignature } from '../pki/csr-verify.js';
import type { Policy } from '../policies/policy-types.js';

export type CsrCheck =
  | { ok: true; csr: ParsedCsr; operationalKey: boolean }
  /** `invalid`: the device's own request is malformed (400); otherwise it is refused (401). */
  | { ok: false; invalid: boolean; reason: string };

/**
 * Checks a CSR against the device that sends it, before anything is written: well-formed with
 * a canonical key of a type the policy accepts, subject CN absent or the device ID, signed
 * by its own key, and for the identity key unless the policy allows a separate operational
 * key. Everything the issuance engine would refuse is refused here first, with the reason.
 * `known`: the identity key already decoded (from the bootstrap certificate); when the CSR
 * carries that same key, its signature is checked with it rather than a second import.
 */
export async function checkDeviceCsr(
  csrDer: Buffer,
  deviceId: string,
  policy: Policy,
  known?: { spki: Buffer; key: KeyObject },
): Promise<CsrCheck> {
  const parsed = parseCsr(csrDer);
  if (!parsed.ok) return { ok: false, invalid: true, reason: parsed.reason };
  const csr = parsed.csr;
  const accepted: readonly KeyType[] = policy.deviceCertificate.keyTypes;
  if (!accepted.includes(csr.key.type)) {
    return {
      ok: false,
      invalid: false,
      reason: `CSR key type ${csr.key.type} is not accepted by policy "${policy.name}" (${accepted.join(', ')})`,
    };
  }
  const operationalKey = csr.key.deviceId !== deviceId;
  if (operationalKey && !policy.deviceCertificate.operationalKeyAllowed) {
    return {
      ok: false,
      invalid: false,
      reason: `the CSR's key is not the proven identity key (its ID would be ${csr.key.deviceId}), and policy "${policy.name}" allows no operational key`,
    };
  }
  if (csr.subjectCommonNames.some((cn) => cn !== deviceId)) {
    return {
      ok: false,
      invalid: true,
      reason: 'the CSR subject CN must be the device ID, or absent',
    };
  }
  const sameKey = known && known.spki.equals(csr.key.spkiDer) ? known.key : undefined;
  if (!(await verifyCsrSignature(csr, sameKey))) {
    return { ok: false, invalid: true, reason: 'the CSR signature does not verify with its key' };
  }
  return { ok: true, csr, operationalKey };
}
