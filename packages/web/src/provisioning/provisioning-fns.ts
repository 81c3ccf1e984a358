import { md5 } from '@noble/hashes/legacy.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { FlashImage, TaskInput } from './provisioning-types';

/** The start of the line the initial enrolment firmware prints (docs/provisioning-device.md). */
export const IDENTITY_PREFIX = 'TRUSTLINK-IDENTITY ';

/**
 * Splits serial text into complete lines, keeping the unfinished tail for the next chunk.
 * Line ends are LF or CRLF; a trailing CR is dropped.
 */
export function splitLines(pending: string, chunk: string): { lines: string[]; rest: string } {
  const parts = (pending + chunk).split('\n');
  const rest = parts.pop() ?? '';
  return { lines: parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)), rest };
}

/** The identity line among printed lines, if there is one (the server checks it fully). */
export function findIdentityLine(lines: string[]): string | undefined {
  return lines.find((l) => l.startsWith(IDENTITY_PREFIX));
}

/** base64 to bytes (the flash plan carries images as base64). */
export function bytesOf(base64: string): Uint8Array {
  const bin = atob(base64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A flash address as esptool writes it: 0x1000. */
export const hexAddress = (n: number) => `0x${n.toString(16)}`;

/** Whole percent of one image written, from esptool-js's progress (bytes of that image). */
export function percent(written: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(100, Math.floor((written / total) * 100));
}

/**
 * MD5 of an image as esptool-js compares it with the chip's SPI_FLASH_MD5 answer (lower-case
 * hex). MD5 is what the ROM loader and its stub compute; it guards against a torn or garbled
 * write, not against an attacker (secure boot's signature does that).
 */
export const md5Hex = (bytes: Uint8Array): string => bytesToHex(md5(bytes));

/** esptool-js's error when the flash's MD5 differs from the image's. */
const MD5_MISMATCH = /MD5 of file does not match/i;

/**
 * The reason shown (and sent to the server) when the flash does not hold what was written;
 * undefined when `err` is another failure.
 */
export function verificationFailure(
  err: unknown,
  image: Pick<FlashImage, 'name' | 'address'> | undefined,
): string | undefined {
  const message = err instanceof Error ? err.message : String(err);
  if (!MD5_MISMATCH.test(message)) return undefined;
  const what = image ? `${image.name} at ${hexAddress(image.address)}` : 'an image';
  return `flash verification failed: the device does not hold ${what} as written (its MD5 differs); check the cable and the board's flash, then run again`;
}

/** The line each image gets in the steps list. */
export function imageStep(i: FlashImage): string {
  return `${i.name} (${i.part}, ${i.size} bytes${i.signed ? ', signed' : ''}) at ${hexAddress(i.address)}`;
}

export interface TaskFormValues extends Omit<TaskInput, 'deviceType' | 'bootloaderKind'> {
  deviceType: string;
  bootloaderKind: string;
}

/** What the form checks before sending; the server checks the rest (formats, sizes, keys). */
export function taskErrors(v: TaskFormValues): Record<string, string> {
  const e: Record<string, string> = {};
  if (!v.name.trim()) e.name = 'Enter a name';
  else if (v.name.trim().length > 128) e.name = 'At most 128 characters';
  if (!v.deviceType) e.deviceType = 'Choose the device type';
  if (!v.bootloaderKind) e.bootloaderKind = 'Choose the bootloader kind';
  if (!v.bootloaderFirmwareId) e.bootloaderFirmwareId = 'Choose the bootloader image';
  if (!v.partitionTableFirmwareId) e.partitionTableFirmwareId = 'Choose the partition table';
  if (!v.iefFirmwareId) e.iefFirmwareId = 'Choose the initial enrolment firmware';
  if (!v.batchId) e.batchId = 'Choose the batch';
  return e;
}

/** What the Wi-Fi fields must hold (IEEE 802.11: SSID up to 32 bytes; WPA2 8-63 characters). */
export function wifiErrors(v: { ssid: string; password: string }): Record<string, string> {
  const e: Record<string, string> = {};
  if (!v.ssid) e.ssid = 'Enter the Wi-Fi network name';
  else if (new TextEncoder().encode(v.ssid).length > 32) e.ssid = 'At most 32 bytes';
  if (v.password.length > 63) e.password = 'At most 63 characters';
  else if (v.password.length > 0 && v.password.length < 8)
    e.password = 'Leave it empty for an open network, or enter 8 to 63 characters';
  return e;
}
