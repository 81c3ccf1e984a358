import type { Signer } from '../identity/key-types.js';
import { signJws } from '../jws/jws-compact.js';
import {
  MANIFEST_JWS_TYPE,
  type ManifestPayload,
  manifestPayloadSchema,
} from './manifest-payload.js';

/**
 * Signs a manifest as JWS compact (ES256 for P-256, ES384 for P-384, PS256 for RSA-3072) with
 * `kid` = the signing key's id. The payload is schema-checked first, so the platform can never
 * sign something a device would refuse to parse. `sign` is the key store (DER ECDSA is converted
 * to JOSE r||s here).
 */
export async function signManifest(
  payload: ManifestPayload,
  signer: Signer & { kid: string },
): Promise<string> {
  const checked = manifestPayloadSchema.safeParse(payload);
  if (!checked.success) {
    throw new RangeError(
      `invalid manifest: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return signJws(checked.data, { kid: signer.kid, typ: MANIFEST_JWS_TYPE, signer });
}
