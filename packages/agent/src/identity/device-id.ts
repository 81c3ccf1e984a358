import { deviceIdFromSpki } from '@trustlink/protocol';
import { canonicalPublicKey } from '../keystore/spki-fns.js';

/**
 * Device ID of the identity key: lowercase hex SHA-256 of its canonical DER SubjectPublicKeyInfo
 * (PROTOCOL.md "Identity"), derived by the protocol package exactly as the server derives it.
 * The key's SPKI is re-encoded canonically first: the agent speaks for its own key, so it may
 * normalise what a token hands it, where the server must refuse any other encoding.
 */
export function deviceIdOf(spkiDer: Buffer): string {
  const result = deviceIdFromSpki(canonicalPublicKey(spkiDer).spkiDer);
  if (!result.ok) throw new Error(`identity key refused by the protocol: ${result.detail}`);
  return result.deviceId;
}
