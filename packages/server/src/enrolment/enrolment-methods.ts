import type { KeyType } from '@trustlink/protocol';
import type { Device } from '../devices/device-repo.js';

/**
 * What a device has shown when it asks to enrol. Its identity key is already proven (TLS
 * client authentication or a Trustlink-Proof); the device ID is derived from that key.
 */
export interface EnrolmentEvidence {
  instanceId: string;
  deviceId: string;
  keyType: KeyType;
  /** The registered device, when the ID is registered. */
  device: Device | undefined;
  /** A factory certificate for the identity key, with the intermediates the device sent. */
  factory?: { certificate: Buffer; intermediates: Buffer[] };
  /** A platform token (second factor of factory certificates). */
  token?: string;
}

export type EnrolmentDecision =
  | {
      ok: true;
      /** pre-registered, factory-certificate or factory-certificate+token. */
      method: string;
      batchId: string;
      /** The device ID is not registered yet: enrolment registers it into the batch. */
      register: boolean;
      /** Facts for the audit entry (auth cert, token). */
      details: Record<string, unknown>;
    }
  | { ok: false; reason: string; details?: Record<string, unknown> };

/**
 * One way a device may be admitted (smallstep calls these provisioners): pre-registered
 * device ID, factory certificate with an auth cert's rule; later TPM attestation. Each says
 * whether it applies to the evidence and, if so, into which batch the device enrols, or why
 * it may not. The first method that applies decides; none may admit on a token alone.
 */
export interface EnrolmentMethod {
  readonly name: string;
  applies(evidence: EnrolmentEvidence): boolean;
  decide(evidence: EnrolmentEvidence): Promise<EnrolmentDecision>;
}

/** Picks the method for the evidence and lets it decide. */
export async function decideEnrolment(
  methods: readonly EnrolmentMethod[],
  evidence: EnrolmentEvidence,
): Promise<EnrolmentDecision> {
  const method = methods.find((m) => m.applies(evidence));
  if (!method)
    return { ok: false, reason: 'no enrolment method applies to what the device showed' };
  return method.decide(evidence);
}
