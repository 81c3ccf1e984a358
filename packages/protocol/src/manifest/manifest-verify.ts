import { type KeyType } from '../identity/key-types.js';
import { type JwsFailure, verifyJws } from '../jws/jws-compact.js';
import { type Result, fail } from '../result.js';
import {
  MANIFEST_JWS_TYPE,
  type ManifestPayload,
  manifestPayloadSchema,
} from './manifest-payload.js';

export type ManifestFailure =
  | JwsFailure
  | 'expired'
  | 'wrong-instance'
  | 'wrong-device'
  | 'wrong-batch'
  | 'rollback'
  | 'hardware-mismatch';

/** What the device knows about itself when it judges a manifest. */
export interface ManifestExpectation {
  instanceId: string;
  deviceId: string;
  /** The device's batch; a batch manifest is refused by a device that has none. */
  batchId?: string;
  /** The device's hardware attributes; each one the manifest names must match exactly. */
  hardware: Record<string, string>;
  /** The committed anti-rollback counter of the running image. */
  installedSecurityVersion: number;
  /** Trusted time (never earlier than the device's persisted time floor). */
  now: Date;
  /** The signing key id received at enrolment, if the device wants it compared. */
  kid?: string;
}

/**
 * Verifies a manifest JWS with the signing public key received at enrolment (the algorithm
 * follows from that key), then refuses: an expired manifest (anti-freeze), one for another
 * instance, device or batch (anti-mix-and-match), a lower securityVersion than the installed one
 * (anti-rollback; an equal one is a reinstall) and a hardware mismatch. The image's size and
 * digest are checked after download with {@link checkImageAgainstManifest}.
 */
export function verifyManifest(
  jws: string,
  options: { publicKeySpki: Uint8Array; expected: ManifestExpectation },
): Result<{ manifest: ManifestPayload; kid: string; keyType: KeyType }, ManifestFailure> {
  const { expected } = options;
  const verified = verifyJws(jws, {
    publicKeySpki: options.publicKeySpki,
    typ: MANIFEST_JWS_TYPE,
    ...(expected.kid !== undefined ? { kid: expected.kid } : {}),
  });
  if (!verified.ok) return verified;
  const parsed = manifestPayloadSchema.safeParse(verified.payload);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return fail(
      'bad-payload',
      `manifest: ${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`,
    );
  }
  const m = parsed.data;
  if (expected.now.getTime() >= Date.parse(m.expiresAt)) {
    return fail('expired', `manifest expired at ${m.expiresAt}`);
  }
  if (m.instanceId !== expected.instanceId)
    return fail('wrong-instance', 'manifest is for another instance');
  if (m.deviceId !== undefined && m.deviceId !== expected.deviceId) {
    return fail('wrong-device', 'manifest is for another device');
  }
  if (m.batchId !== undefined && m.batchId !== expected.batchId) {
    return fail('wrong-batch', 'manifest is for another batch');
  }
  if (m.securityVersion < expected.installedSecurityVersion) {
    return fail(
      'rollback',
      `securityVersion ${m.securityVersion} is below the installed ${expected.installedSecurityVersion}`,
    );
  }
  for (const [name, value] of Object.entries(m.hardware)) {
    if (!Object.hasOwn(expected.hardware, name) || expected.hardware[name] !== value) {
      return fail('hardware-mismatch', `hardware attribute ${name} must be "${value}"`);
    }
  }
  return { ok: true, manifest: m, kid: verified.header.kid, keyType: verified.keyType };
}

/** Checks a downloaded image (its size and SHA-256, computed while streaming) against the manifest. */
export function checkImageAgainstManifest(
  manifest: Pick<ManifestPayload, 'size' | 'sha256'>,
  image: { size: number; sha256: string },
): Result<object, 'size-mismatch' | 'digest-mismatch'> {
  if (image.size !== manifest.size)
    return fail('size-mismatch', `image has ${image.size} bytes, manifest says ${manifest.size}`);
  if (image.sha256.toLowerCase() !== manifest.sha256)
    return fail('digest-mismatch', 'image SHA-256 differs from the manifest');
  return { ok: true };
}
