import { signManifest, type ManifestPayload } from '@trustlink/protocol';
import type { KeyRecord, KeyStore } from '../keystore/keystore-types.js';
import { BadRequestError } from '../lib/errors.js';
import type { FirmwareBlobStore, StoredBlob } from './blob-store.js';
import { signDetachedCms } from './cms-detached-fns.js';
import { signEsp32SecureBootV2 } from './esp32-sbv2-fns.js';
import { keyStoreSigner } from './firmware-signer.js';
import { manifestTimes } from './firmware-fns.js';
import type { FirmwareRow } from './firmware-repo.js';
import type { SignerCertificates } from './firmware-signer-cert.js';
import type { SignatureKind } from './firmware-types.js';

/** ESP32 images are signed in memory; no ESP32 application partition is larger than this. */
export const ESP32_MAX_IMAGE_BYTES = 32 * 1024 * 1024;

/** The native signature an image's format needs, or none. */
export function nativeKindOf(format: FirmwareRow['format']): SignatureKind | undefined {
  if (format === 'esp32-sbv2') return 'esp32-sbv2';
  if (format === 'linux-bundle-cms') return 'cms';
  return undefined;
}

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(typeof p === 'string' ? Buffer.from(p) : p);
  return Buffer.concat(parts);
}

/**
 * Signing of firmware through the key store: native formats (an ESP32 Secure Boot V2 signed
 * image, a detached CMS signature) stored as blobs, and update manifests. The private key
 * never leaves the key store; every signature is checked against the public key by the
 * format functions before it is handed out.
 */
export function createFirmwareSigning(deps: {
  keystore: KeyStore;
  blobs: FirmwareBlobStore;
  signerCerts: SignerCertificates;
  now: () => Date;
  manifestLifetimeSeconds: number;
}) {
  const { keystore, blobs, signerCerts, now } = deps;

  /** Makes the native signature of `kind` and stores it; returns the stored blob. */
  async function native(
    instanceId: string,
    firmware: FirmwareRow,
    key: KeyRecord,
    kind: SignatureKind,
  ): Promise<StoredBlob> {
    const signer = keyStoreSigner(keystore, instanceId, key.id);
    if (kind === 'esp32-sbv2') {
      if (key.algorithm !== 'P-256' && key.algorithm !== 'RSA-3072') {
        throw new BadRequestError(`ESP32 Secure Boot V2 signs with P-256 or RSA-3072 keys`);
      }
      if (firmware.size > ESP32_MAX_IMAGE_BYTES) {
        throw new BadRequestError(`ESP32 images are at most ${ESP32_MAX_IMAGE_BYTES} bytes`);
      }
      const image = await readAll(await blobs.get(instanceId, firmware.sha256));
      const signed = await signEsp32SecureBootV2(image, signer, key.publicKeyDer, key.algorithm);
      return blobs.put(instanceId, [signed]);
    }
    if (kind === 'cms') {
      const cert = await signerCerts.certificateFor(instanceId, key);
      // The bundle's digest is known from its upload: a bundle of any size is never read here.
      const der = await signDetachedCms(
        { sha256: Buffer.from(firmware.sha256, 'hex') },
        cert,
        [],
        signer,
        key.algorithm.startsWith('P-') ? 'ecdsa-sha256' : 'rsa-pkcs1-sha256',
        { signingTime: now() },
      );
      return blobs.put(instanceId, [der]);
    }
    throw new Error(`${kind} is not a native signature`);
  }

  /** Signs the manifest of an update for a batch; the payload is checked before signing. */
  async function manifest(
    instanceId: string,
    target: {
      batchId: string;
      firmware: FirmwareRow;
      image: { sha256: string; size: number };
      key: KeyRecord;
    },
  ): Promise<{ manifest: string; issuedAt: string; expiresAt: string }> {
    const { firmware, image, key } = target;
    const times = manifestTimes(now(), deps.manifestLifetimeSeconds);
    const payload: ManifestPayload = {
      v: 1,
      instanceId,
      batchId: target.batchId,
      firmwareId: firmware.id,
      name: firmware.name,
      version: firmware.version,
      securityVersion: firmware.securityVersion,
      // Attributes say which hardware an image is for; the device checks them against its own.
      hardware: Object.fromEntries(firmware.attributes.map((a) => [a.name, a.value])),
      size: image.size,
      sha256: image.sha256,
      format: firmware.format,
      ...times,
    };
    const jws = await signManifest(payload, {
      kid: key.id,
      keyType: key.algorithm,
      sign: async (data, scheme) => keystore.sign(instanceId, key.id, Buffer.from(data), scheme),
    });
    return { manifest: jws, ...times };
  }

  return { native, manifest };
}
export type FirmwareSigning = ReturnType<typeof createFirmwareSigning>;
