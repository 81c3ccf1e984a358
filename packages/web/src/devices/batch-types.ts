/** Batches and their devices as the API shows them (packages/server/src/batches/). */

export interface AttributeFilter {
  operator: 'and' | 'or';
  filters: { name: string; value: string }[];
}

export interface BatchCounts {
  devices: number;
  enrolled: number;
  renewed: number;
  expired: number;
  revoked: number;
}

export interface Batch {
  id: string;
  name: string;
  policyId: string;
  policyName: string;
  firmwareId: string | null;
  signingKeyId: string | null;
  attributeFilter: AttributeFilter;
  counts: BatchCounts;
  createdAt: string;
  updatedAt: string;
}

export interface BatchInput {
  name: string;
  policyId: string;
  attributeFilter: AttributeFilter;
}

export const DEVICE_STATES = ['registered', 'enrolled', 'renewed', 'revoked', 'expired'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export interface Device {
  id: string;
  batchId: string;
  state: DeviceState;
  registeredAt: string;
  enrolledAt: string | null;
  renewedAt: string | null;
  revokedAt: string | null;
  expiredAt: string | null;
  lastSeenAt: string | null;
}

/** One refused entry of an uploaded device list, as the server reports it. */
export interface DeviceListProblem {
  /** 1-based position in the list. */
  entry: number;
  value: string;
  reason: string;
}

export interface UploadResult {
  added: number;
  alreadyInBatch: number;
}
