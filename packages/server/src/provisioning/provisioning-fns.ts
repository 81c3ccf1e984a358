/**
 * Pure facts about the chips a provisioning task can flash, and the checks made on a task's
 * images and signing key. Offsets are ESP-IDF's defaults: the ROM loads the second-stage
 * bootloader from 0x1000 on ESP32 and from 0x0 on later chips; the partition table sits at
 * 0x8000 and the factory application at 0x10000.
 */
export const DEVICE_TYPES = ['esp32', 'esp32-c3', 'esp32-s3', 'esp32-c6'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export const BOOTLOADER_KINDS = ['development', 'release'] as const;
export type BootloaderKind = (typeof BOOTLOADER_KINDS)[number];

export type Esp32SigningKeyType = 'RSA-3072' | 'P-256';

export interface ChipLayout {
  /** What the console shows, and what esptool-js calls the chip it detects. */
  label: string;
  bootloaderOffset: number;
  partitionTableOffset: number;
  appOffset: number;
  /** Key types the chip's Secure Boot V2 ROM verifies (ESP-IDF "Secure Boot v2" per chip). */
  keyTypes: readonly Esp32SigningKeyType[];
}

const PARTITION_TABLE = 0x8000;
const APP = 0x10000;

export const CHIPS: Record<DeviceType, ChipLayout> = {
  esp32: {
    label: 'ESP32',
    bootloaderOffset: 0x1000,
    partitionTableOffset: PARTITION_TABLE,
    appOffset: APP,
    keyTypes: ['RSA-3072'],
  },
  'esp32-c3': {
    label: 'ESP32-C3',
    bootloaderOffset: 0x0,
    partitionTableOffset: PARTITION_TABLE,
    appOffset: APP,
    keyTypes: ['RSA-3072'],
  },
  'esp32-s3': {
    label: 'ESP32-S3',
    bootloaderOffset: 0x0,
    partitionTableOffset: PARTITION_TABLE,
    appOffset: APP,
    keyTypes: ['RSA-3072'],
  },
  'esp32-c6': {
    label: 'ESP32-C6',
    bootloaderOffset: 0x0,
    partitionTableOffset: PARTITION_TABLE,
    appOffset: APP,
    keyTypes: ['RSA-3072', 'P-256'],
  },
};

/** ESP-IDF's partition table holds at most 0xC00 bytes (95 entries and the MD5 entry). */
export const PARTITION_TABLE_MAX_BYTES = 0xc00;
/** The IEF must end before 16 MiB, the largest flash an ESP32 maps. */
export const FLASH_MAX_BYTES = 16 * 1024 * 1024;

export type Check = { ok: true } | { ok: false; field: string; reason: string };

/** An image as the checks need it: from the firmware library. */
export interface ImageFacts {
  name: string;
  format: string;
  size: number;
}

/** The Secure Boot V2 signature sector added when an image is signed (one 4 KiB sector). */
const SIGNATURE_SECTOR = 4096;
const padded = (n: number) => Math.ceil(n / SIGNATURE_SECTOR) * SIGNATURE_SECTOR + SIGNATURE_SECTOR;

/**
 * Checks that the three images are of the right kind and fit where the chip loads them, once
 * signed (a signed image is padded to a sector and followed by its signature sector).
 */
export function checkImages(
  type: DeviceType,
  images: { bootloader: ImageFacts; partitionTable: ImageFacts; ief: ImageFacts },
): Check {
  const chip = CHIPS[type];
  const { bootloader, partitionTable, ief } = images;
  if (bootloader.format !== 'esp32-sbv2')
    return {
      ok: false,
      field: 'bootloaderFirmwareId',
      reason: `firmware "${bootloader.name}" is ${bootloader.format}; the bootloader must be an ESP32 image (format esp32-sbv2)`,
    };
  if (ief.format !== 'esp32-sbv2')
    return {
      ok: false,
      field: 'iefFirmwareId',
      reason: `firmware "${ief.name}" is ${ief.format}; the initial enrolment firmware must be an ESP32 image (format esp32-sbv2)`,
    };
  if (partitionTable.format !== 'raw')
    return {
      ok: false,
      field: 'partitionTableFirmwareId',
      reason: `firmware "${partitionTable.name}" is ${partitionTable.format}; a partition table is a raw image`,
    };
  const bootloaderRoom = chip.partitionTableOffset - chip.bootloaderOffset;
  if (padded(bootloader.size) > bootloaderRoom)
    return {
      ok: false,
      field: 'bootloaderFirmwareId',
      reason: `the bootloader (${bootloader.size} bytes, ${padded(bootloader.size)} signed) does not fit the ${bootloaderRoom} bytes before the partition table at 0x8000 on ${chip.label}`,
    };
  if (partitionTable.size > PARTITION_TABLE_MAX_BYTES)
    return {
      ok: false,
      field: 'partitionTableFirmwareId',
      reason: `the partition table is ${partitionTable.size} bytes; at most ${PARTITION_TABLE_MAX_BYTES} fit`,
    };
  if (chip.appOffset + padded(ief.size) > FLASH_MAX_BYTES)
    return {
      ok: false,
      field: 'iefFirmwareId',
      reason: `the initial enrolment firmware (${ief.size} bytes) does not fit in 16 MiB of flash`,
    };
  return { ok: true };
}

/**
 * Checks the batch's signing key against the bootloader kind and the chip. A release bootloader
 * enables secure boot for good, so the images must be signed and the chip must verify the key's
 * type; a development bootloader is flashed signed when the batch has a key, unsigned otherwise.
 */
export function checkSigningKey(
  type: DeviceType,
  kind: BootloaderKind,
  batchName: string,
  key: { name: string; algorithm: string } | undefined,
): Check {
  const chip = CHIPS[type];
  if (!key) {
    if (kind === 'release')
      return {
        ok: false,
        field: 'batchId',
        reason: `a release bootloader enables secure boot for good and needs signed images, but batch "${batchName}" has no signing key; assign its firmware with a signing key first`,
      };
    return { ok: true };
  }
  if (!(chip.keyTypes as readonly string[]).includes(key.algorithm))
    return {
      ok: false,
      field: 'batchId',
      reason: `batch "${batchName}" signs with ${key.algorithm} key "${key.name}", but ${chip.label} secure boot verifies only ${chip.keyTypes.join(' or ')} signatures`,
    };
  return { ok: true };
}

/** Where each image goes on the chip, in the order they are written. */
export function flashLayout(type: DeviceType, configOffset: number) {
  const chip = CHIPS[type];
  return [
    { part: 'bootloader' as const, address: chip.bootloaderOffset },
    { part: 'partition-table' as const, address: chip.partitionTableOffset },
    { part: 'config' as const, address: configOffset },
    { part: 'ief' as const, address: chip.appOffset },
  ];
}
