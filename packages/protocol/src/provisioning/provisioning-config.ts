import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type Result, fail } from '../result.js';

/**
 * The provisioning configuration the console writes into a device's flash next to the bootloader,
 * partition table and initial enrolment firmware (IEF). The IEF reads it at boot to learn where
 * the platform is, which root to pin, its batch and the Wi-Fi to join.
 *
 * Layout (one 4 KiB flash sector at {@link PROVISIONING_CONFIG_OFFSET}; all integers little-endian):
 *
 *   offset  size  field
 *   0       4     magic "TLPC" (0x54 0x4c 0x50 0x43)
 *   4       1     format version, 1
 *   5       1     flags: bit 0 set = release bootloader (secure boot enabled for good)
 *   6       2     N, length of the payload in bytes
 *   8       N     payload: UTF-8 JSON, see {@link provisioningConfigSchema}
 *   8+N     32    SHA-256 of bytes 0 .. 8+N-1 (a torn or erased sector fails this check)
 *
 * The rest of the sector is left erased (0xFF). The Wi-Fi password is in the payload: the blob is
 * made for one device at the moment it is flashed and is not kept by the platform.
 */
export const PROVISIONING_CONFIG_MAGIC = 'TLPC';
export const PROVISIONING_CONFIG_VERSION = 1;
/** Flash offset of the configuration sector (docs/provisioning-device.md: partition `tl_prov`). */
export const PROVISIONING_CONFIG_OFFSET = 0xd000;
/** The whole blob fits in one flash sector. */
export const PROVISIONING_CONFIG_MAX_BYTES = 4096;
const HEADER_BYTES = 8;
const DIGEST_BYTES = 32;
const FLAG_RELEASE = 0x01;

/** IEEE 802.11 limits: SSID 1-32 bytes; WPA2 passphrase 8-63 characters, or none (open). */
export const wifiSchema = z
  .object({
    ssid: z
      .string()
      .min(1, 'enter the Wi-Fi network name')
      .refine((s) => new TextEncoder().encode(s).length <= 32, 'must be at most 32 bytes'),
    password: z
      .string()
      .max(63, 'must be at most 63 characters')
      .refine(
        (p) => p.length === 0 || p.length >= 8,
        'must be empty (open network) or 8 to 63 characters',
      ),
  })
  .strict();

/** The payload, in this key order (the encoder writes it so, making the bytes reproducible). */
export const provisioningConfigSchema = z
  .object({
    v: z.literal(1),
    /** Base URL of the device API, e.g. `https://iot.example.com:8444`. */
    deviceUrl: z.url({ protocol: /^https$/ }),
    /** The instance root certificate the device pins, DER in standard base64. */
    rootCa: z.base64(),
    instanceId: z.string().min(1).max(128),
    batchId: z.string().min(1).max(128),
    bootloader: z.enum(['development', 'release']),
    wifi: wifiSchema,
  })
  .strict();
export type ProvisioningConfig = z.infer<typeof provisioningConfigSchema>;

const digest = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** Encodes a configuration; throws on input the schema refuses or that does not fit a sector. */
export function encodeProvisioningConfig(config: ProvisioningConfig): Buffer {
  const c = provisioningConfigSchema.parse(config);
  const ordered = {
    v: c.v,
    deviceUrl: c.deviceUrl,
    rootCa: c.rootCa,
    instanceId: c.instanceId,
    batchId: c.batchId,
    bootloader: c.bootloader,
    wifi: { ssid: c.wifi.ssid, password: c.wifi.password },
  };
  const payload = Buffer.from(JSON.stringify(ordered), 'utf8');
  const total = HEADER_BYTES + payload.length + DIGEST_BYTES;
  if (total > PROVISIONING_CONFIG_MAX_BYTES)
    throw new Error(`the provisioning configuration is ${total} bytes, over one 4 KiB sector`);
  const head = Buffer.alloc(HEADER_BYTES);
  head.write(PROVISIONING_CONFIG_MAGIC, 0, 'latin1');
  head[4] = PROVISIONING_CONFIG_VERSION;
  head[5] = c.bootloader === 'release' ? FLAG_RELEASE : 0;
  head.writeUInt16LE(payload.length, 6);
  const body = Buffer.concat([head, payload]);
  return Buffer.concat([body, digest(body)]);
}

export type ProvisioningConfigFailure =
  'too-short' | 'bad-magic' | 'bad-version' | 'bad-digest' | 'bad-payload';

/**
 * Decodes a blob (trailing erased bytes allowed), checking magic, version, digest, the flag
 * against the payload, and the payload against the schema. What the IEF does, for tests and tools.
 */
export function decodeProvisioningConfig(
  blob: Uint8Array,
): Result<{ config: ProvisioningConfig; length: number }, ProvisioningConfigFailure> {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (b.length < HEADER_BYTES + DIGEST_BYTES) return fail('too-short', 'shorter than a header');
  if (b.toString('latin1', 0, 4) !== PROVISIONING_CONFIG_MAGIC)
    return fail('bad-magic', 'no TLPC magic: the sector is erased or holds something else');
  if (b[4] !== PROVISIONING_CONFIG_VERSION) return fail('bad-version', `format version ${b[4]}`);
  const n = b.readUInt16LE(6);
  const end = HEADER_BYTES + n;
  if (b.length < end + DIGEST_BYTES) return fail('too-short', 'the payload runs past the blob');
  if (!digest(b.subarray(0, end)).equals(b.subarray(end, end + DIGEST_BYTES)))
    return fail('bad-digest', 'the SHA-256 does not match: torn or altered');
  let json: unknown;
  try {
    json = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(HEADER_BYTES, end)),
    );
  } catch {
    return fail('bad-payload', 'the payload is not UTF-8 JSON');
  }
  const parsed = provisioningConfigSchema.safeParse(json);
  if (!parsed.success) return fail('bad-payload', parsed.error.issues[0]?.message ?? 'invalid');
  if (((b[5]! & FLAG_RELEASE) !== 0) !== (parsed.data.bootloader === 'release'))
    return fail('bad-payload', 'the release flag disagrees with the payload');
  return { ok: true, config: parsed.data, length: end + DIGEST_BYTES };
}
