import type { Duration } from './duration-fns';

/** Policies as the API shows them (packages/server/src/policies/policy-types.ts). */

export const CONNECTION_TYPES = ['iot-hub', 'database-direct'] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];
export const DEVICE_KEY_TYPES = ['P-256', 'P-384', 'RSA-2048', 'RSA-3072'] as const;
export type DeviceKeyType = (typeof DEVICE_KEY_TYPES)[number];
export const ISSUING_KEY_TYPES = ['P-256', 'P-384', 'RSA-3072'] as const;
export type IssuingKeyType = (typeof ISSUING_KEY_TYPES)[number];

export const CONNECTION_LABELS: Record<ConnectionType, string> = {
  'iot-hub': 'IoT hub',
  'database-direct': 'Database direct',
};

/** How each key type reads in the console: the curve or modulus, and the algorithm family. */
export const KEY_TYPE_LABELS: Record<DeviceKeyType, string> = {
  'P-256': 'ECDSA P-256',
  'P-384': 'ECDSA P-384',
  'RSA-2048': 'RSA 2048',
  'RSA-3072': 'RSA 3072',
};

/** What the API takes to create or replace a policy. */
export interface PolicyInput {
  name: string;
  connectionType: ConnectionType;
  hubId: string | null;
  databaseConnectionId: string | null;
  deviceCertificate: {
    lifetime: Duration;
    keyTypes: DeviceKeyType[];
    operationalKeyAllowed: boolean;
    autoRenew: boolean;
    renewGracePeriod: Duration;
  };
  issuingCertificate: { lifetime: Duration; keyType: IssuingKeyType; autoRenew: boolean };
  jwtLifetime: Duration | null;
}

/** A stored policy. */
export interface Policy extends PolicyInput {
  id: string;
  /** The issuing CA made for the policy, once there is one. */
  issuingCaId: string | null;
  createdAt: string;
  updatedAt: string;
}
