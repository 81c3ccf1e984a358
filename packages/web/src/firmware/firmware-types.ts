/** Firmware and rollouts as the API shows them (packages/server/src/firmware/firmware-types.ts). */

export const FIRMWARE_FORMATS = ['raw', 'esp32-sbv2', 'linux-bundle-cms'] as const;
export type FirmwareFormat = (typeof FIRMWARE_FORMATS)[number];

export const SOURCE_FORMATS = ['binary', 'intel-hex'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

export const UPDATE_STATUSES = [
  'pending',
  'downloading',
  'installing',
  'installed',
  'failed',
] as const;
export type UpdateStatus = (typeof UPDATE_STATUSES)[number];

export interface Attribute {
  name: string;
  value: string;
}

export interface FirmwareSignature {
  id: string;
  keyId: string;
  /** null once the key has been deleted. */
  keyName: string | null;
  kind: 'manifest' | 'esp32-sbv2' | 'cms';
  size: number | null;
  createdAt: string;
}

export interface Firmware {
  id: string;
  name: string;
  description: string;
  version: string;
  securityVersion: number;
  format: FirmwareFormat;
  input: SourceFormat;
  baseAddress: number | null;
  size: number;
  sha256: string;
  attributes: Attribute[];
  signatures: FirmwareSignature[];
  batches: { id: string; name: string }[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface UpdateView {
  id: string;
  batchId: string;
  firmwareId: string;
  firmwareName: string;
  version: string;
  securityVersion: number;
  signingKeyId: string;
  format: FirmwareFormat;
  imageSha256: string;
  imageSize: number;
  manifestExpiresAt: string;
  createdBy: string;
  createdAt: string;
  supersededAt: string | null;
}

export interface RolloutDevice {
  deviceId: string;
  status: UpdateStatus;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  downloadingAt: string | null;
  installingAt: string | null;
  installedAt: string | null;
  failedAt: string | null;
  reportedAt: string | null;
}

export type RolloutCounts = Record<UpdateStatus | 'total', number>;

export interface Rollout {
  update: UpdateView | null;
  counts: RolloutCounts;
  items: RolloutDevice[];
  total: number;
}
