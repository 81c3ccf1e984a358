/** A provisioning task as the API shows it (packages/server/src/provisioning/provisioning-types.ts). */
export interface Task {
  id: string;
  name: string;
  deviceType: DeviceType;
  bootloaderKind: BootloaderKind;
  bootloader: Named;
  partitionTable: Named;
  ief: Named;
  batch: Named;
  createdAt: string;
  updatedAt: string;
}

export interface Named {
  id: string;
  name: string;
}

export type DeviceType = 'esp32' | 'esp32-c3' | 'esp32-s3' | 'esp32-c6';
export type BootloaderKind = 'development' | 'release';

export const DEVICE_TYPE_LABELS: Record<DeviceType, string> = {
  esp32: 'ESP32',
  'esp32-c3': 'ESP32-C3',
  'esp32-s3': 'ESP32-S3',
  'esp32-c6': 'ESP32-C6',
};

export const BOOTLOADER_LABELS: Record<BootloaderKind, string> = {
  development: 'Development',
  release: 'Release',
};

export interface TaskInput {
  name: string;
  deviceType: DeviceType;
  bootloaderKind: BootloaderKind;
  bootloaderFirmwareId: string;
  partitionTableFirmwareId: string;
  iefFirmwareId: string;
  batchId: string;
}

export type RunStatus = 'started' | 'finished' | 'failed' | 'abandoned';

export interface Run {
  id: string;
  taskId: string;
  status: RunStatus;
  deviceId: string | null;
  reason: string | null;
  startedBy: string;
  startedAt: string;
  endedAt: string | null;
}

/** What GET /provisioning-tasks/:id/runs answers: a page, newest first, and the count of all. */
export interface RunPage {
  items: Run[];
  total: number;
}

export const RUN_STATUS_LABELS: Record<RunStatus, { label: string; color: string }> = {
  started: { label: 'In progress', color: 'blue' },
  finished: { label: 'Provisioned', color: 'green' },
  failed: { label: 'Failed', color: 'red' },
  abandoned: { label: 'Abandoned', color: 'orange' },
};

export interface FlashImage {
  part: 'bootloader' | 'partition-table' | 'config' | 'ief';
  name: string;
  address: number;
  size: number;
  sha256: string;
  signed: boolean;
  /** base64 */
  data: string;
}

/** What POST /provisioning-tasks/:id/runs answers: what to write where. */
export interface FlashPlan {
  run: Run;
  deviceType: DeviceType;
  chip: string;
  bootloaderKind: BootloaderKind;
  signingKey: { id: string; name: string; algorithm: string } | null;
  images: FlashImage[];
}

export interface IdentityResult {
  run: Run;
  deviceId: string;
  batch: Named;
  alreadyInBatch: boolean;
}
