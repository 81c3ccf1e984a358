import { createHash } from 'node:crypto';
import { canonicalPublicKey } from '../keystore/spki-fns.js';

/**
 * Device ID: lowercase hex SHA-256 of the canonical DER SubjectPublicKeyInfo of the identity
 * key (PROTOCOL.md "Identity").
 *
 * Note: packages/protocol is to export `deviceIdFromSpki`, the one derivation the server and
 * the agent share. Until it does, the agent derives it here, behind this one function, so the
 * switch is a one-line change.
 */
export function deviceIdOf(spkiDer: Buffer): string {
  const canonical = canonicalPublicKey(spkiDer).spkiDer;
  return createHash('sha256').update(canonical).digest('hex');
}
