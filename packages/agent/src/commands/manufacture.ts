import type { AgentConfig } from '../config/agent-config-schema.js';
import { deviceIdOf } from '../identity/device-id.js';
import type { IdentityKeyStore, KeyType } from '../keystore/key-store-types.js';
import { readIdentityState, writeIdentityState } from '../state/identity-state.js';

export interface ManufactureResult {
  deviceId: string;
  keyType: KeyType;
  /** True when this run created the identity key. */
  created: boolean;
  /** Things the operator should know, for standard error. */
  notes: string[];
}

/**
 * Manufacturing step A3, the part that needs no platform: makes sure the identity key exists
 * (creating it only if there is none), derives the device ID and records the key's reference
 * in the state directory. Registering the ID into a batch comes with the platform's batch API.
 */
export async function manufacture(
  config: Readonly<AgentConfig>,
  store: IdentityKeyStore,
  clock: () => Date = () => new Date(),
): Promise<ManufactureResult> {
  const previous = readIdentityState(config.stateDir);
  const key = await store.getOrCreateIdentityKey();
  const deviceId = deviceIdOf(key.spkiDer);
  const notes: string[] = [];
  if (!key.created)
    notes.push(`identity key already exists (${store.describe().summary}); nothing replaced`);
  if (previous && previous.deviceId !== deviceId) {
    notes.push(
      `state directory recorded device ${previous.deviceId}, but the key store holds ${deviceId}: the state now follows the key store`,
    );
  }
  if (!previous || previous.deviceId !== deviceId) {
    writeIdentityState(config.stateDir, {
      version: 1,
      deviceId,
      keyType: key.keyType,
      keyStore: { type: store.type, ...store.describe().reference },
      publicKey: key.spkiDer.toString('base64'),
      createdAt: clock().toISOString(),
    });
  }
  return { deviceId, keyType: key.keyType, created: key.created, notes };
}
