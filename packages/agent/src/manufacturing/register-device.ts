import { buildProofInput, signProof, toBase64url, type Signer } from '@trustlink/protocol';
import { createPlatformTransport, type PlatformTransport } from '../run/platform-transport.js';
import {
  CredentialRefusedError,
  CredentialUsedUpError,
  DeviceInOtherBatchError,
  PlatformUnreachableError,
  PlatformUntrustedError,
} from './registration-errors.js';

/** The platform's manufacturing routes (packages/server/src/manufacturing/manufacturing-routes.ts). */
export const CHALLENGE_PATH = '/api/v1/manufacturing/challenge';
export const REGISTER_PATH = '/api/v1/manufacturing/devices';

export interface RegistrationTarget {
  /** Management URL of the platform, e.g. https://platform.example.com:8443. */
  platformUrl: URL;
  /** PEM of the root the agent trusts the platform through, and the file it came from. */
  rootPem: string;
  rootCaFile: string;
  /** The manufacturing credential (tlm_...), held by the station, never written anywhere. */
  credential: string;
}

export interface Registration {
  deviceId: string;
  batchName: string;
  /** False when the ID was already in the batch. */
  added: boolean;
}

interface JsonResponse {
  status: number;
  body: unknown;
}

const problemOf = (r: JsonResponse) => {
  const b = (r.body ?? {}) as { type?: unknown; detail?: unknown };
  return {
    type: typeof b.type === 'string' ? (b.type.split('/').pop() ?? '') : '',
    detail: typeof b.detail === 'string' ? b.detail : JSON.stringify(r.body),
  };
};

/** Turns a refusal into the error whose exit code tells the line what to do. */
function failure(step: string, r: JsonResponse): Error {
  const { type, detail } = problemOf(r);
  const message = `${step}: the platform answered ${r.status}: ${detail}`;
  if (r.status >= 500 || r.status === 429 || r.status === 0)
    return new PlatformUnreachableError(message);
  if (r.status === 401) return new CredentialRefusedError(message);
  if (type === 'credential-used-up') return new CredentialUsedUpError(message);
  if (type === 'device-in-other-batch') return new DeviceInOtherBatchError(message);
  return new Error(message);
}

/**
 * Registers the identity key's device ID into the batch of a manufacturing credential: fetches
 * a challenge, has the key store sign the `register` proof over it (the key never leaves the
 * store; the platform derives the ID from the proven key), and posts it. A challenge that
 * expired in between (a slow TPM) is fetched again once.
 */
export async function registerDevice(
  target: RegistrationTarget,
  key: { spkiDer: Buffer; signer: Signer },
): Promise<Registration> {
  // The same pinned connection as `run` (the agent's own chain check against the root, before
  // any byte is sent), with the system clock: a line station has a real one.
  const transport = createPlatformTransport({
    platformUrl: target.platformUrl.href,
    rootCaFile: target.rootCaFile,
    rootPem: target.rootPem,
    now: () => new Date(),
  });
  const post = (p: string, body: unknown) => postJson(transport, p, target.credential, body);
  for (let attempt = 1; ; attempt++) {
    const c = await post(CHALLENGE_PATH, {});
    if (c.status !== 200) throw failure('challenge', c);
    const nonce = (c.body as { nonce?: unknown }).nonce;
    if (typeof nonce !== 'string') throw new Error('challenge: the answer has no nonce');
    const input = buildProofInput({
      purpose: 'register',
      host: transport.host,
      method: 'POST',
      path: REGISTER_PATH,
      nonce,
      body: key.spkiDer,
    });
    const signature = await signProof(input, key.signer);
    const r = await post(REGISTER_PATH, {
      spki: toBase64url(key.spkiDer),
      nonce,
      signature: toBase64url(signature),
    });
    if (r.status === 409 && problemOf(r).type === 'challenge-replayed' && attempt < 2) continue;
    if (r.status !== 200 && r.status !== 201) throw failure('register', r);
    const b = r.body as { deviceId: string; batchName: string; added: boolean };
    return { deviceId: b.deviceId, batchName: b.batchName, added: b.added };
  }
}

/** POSTs JSON with the manufacturing credential; the answer's body parsed when it is JSON. */
async function postJson(
  transport: PlatformTransport,
  path: string,
  credential: string,
  body: unknown,
): Promise<JsonResponse> {
  let res;
  try {
    res = await transport.request({
      method: 'POST',
      path,
      headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(body)),
    });
  } catch (err) {
    if (err instanceof PlatformUntrustedError)
      throw new PlatformUntrustedError(
        `${err.message}; check --root-ca or rootCaFile and the URL's host name`,
      );
    throw err;
  }
  const text = res.body.toString('utf8');
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* keep the text: a proxy's error page, for the message */
  }
  return { status: res.status, body: parsed };
}
