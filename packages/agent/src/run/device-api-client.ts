import { randomBytes } from 'node:crypto';
import {
  PROBLEM_TYPE_BASE,
  PROOF_HEADER,
  certificateResponseSchema,
  challengeResponseSchema,
  createProofHeader,
  databaseTokenResponseSchema,
  hubTokenResponseSchema,
  enrolResponseSchema,
  sessionResponseSchema,
  statusResponseSchema,
  timeResponseSchema,
  type CertificateResponse,
  type DatabaseTokenResponse,
  type HubTokenResponse,
  type EnrolResponse,
  type ProofPurpose,
  type Signer,
  type StatusResponse,
  type TimeResponse,
} from '@trustlink/protocol';
import type { z } from 'zod';
import {
  fetchImage,
  type ImageFetchOptions,
  type ImageFetchResult,
} from '../update/image-fetch.js';
import type { PlatformResponse, PlatformStream, PlatformTransport } from './platform-transport.js';
import { DeviceRevokedError, PlatformProblemError } from './run-errors.js';

const API = '/device/v1';
/** A session is renewed this long before it ends, so a request never races its expiry. */
const SESSION_MARGIN_MS = 60_000;

export type StatusResult =
  { notModified: true } | { notModified: false; etag?: string; body: StatusResponse };

export interface SessionRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

export interface DeviceApiClientDeps {
  transport: PlatformTransport;
  /** The identity key as a protocol signer (the key store signs; the key never leaves it). */
  signer: Signer;
  /** The identity key's canonical SPKI (for `spki=` proofs before enrolment). */
  spkiDer: Buffer;
  /** The current device certificate (DER), once enrolled: sessions are proven with `cert=`. */
  certificate: () => Buffer | undefined;
  now: () => Date;
}

/** The error a problem answer stands for (403 device-revoked ends the device's service). */
export function problemError(what: string, res: PlatformResponse): Error {
  let problem: { type?: unknown; title?: unknown; detail?: unknown } = {};
  try {
    problem = JSON.parse(res.body.toString('utf8')) as typeof problem;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  const type =
    typeof problem.type === 'string' && problem.type.startsWith(PROBLEM_TYPE_BASE)
      ? problem.type.slice(PROBLEM_TYPE_BASE.length)
      : undefined;
  if (res.status === 403 && type === 'device-revoked') return new DeviceRevokedError();
  const retryAfter = Number(res.headers['retry-after']);
  const words = [problem.title, problem.detail].filter((s) => typeof s === 'string').join(': ');
  return new PlatformProblemError(
    `${what}: the platform answered ${res.status}${words ? ` (${words})` : ''}`,
    res.status,
    type,
    Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined,
  );
}

function parseJson<T>(what: string, res: PlatformResponse, schema: z.ZodType<T>): T {
  let data: unknown;
  try {
    data = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new PlatformProblemError(`${what}: the answer is not JSON`, res.status, undefined);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PlatformProblemError(
      `${what}: the answer breaks the protocol (${issue?.path.join('.')}: ${issue?.message})`,
      res.status,
      undefined,
    );
  }
  return parsed.data;
}

/**
 * The device API as the agent uses it. Enrolment and sessions prove the identity key with a
 * Trustlink-Proof over a fresh challenge (what works for TPM keys, which Node's TLS cannot use);
 * everything else rides on the bearer session, reopened when it is near its end or refused.
 */
export function createDeviceApiClient(deps: DeviceApiClientDeps) {
  const { transport } = deps;
  let session: { token: string; expiresAt: number } | undefined;

  async function challenge(): Promise<string> {
    const res = await transport.request({
      method: 'POST',
      path: `${API}/challenge`,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{}'),
    });
    if (res.status !== 200) throw problemError('challenge', res);
    return parseJson('challenge', res, challengeResponseSchema).nonce;
  }

  /** A POST carrying a proof; a nonce that was already used or expired gets one more try. */
  async function provenPost(
    path: string,
    purpose: ProofPurpose,
    payload: unknown,
    credential: { type: 'spki' | 'cert'; der: Buffer },
  ): Promise<PlatformResponse> {
    const body = Buffer.from(JSON.stringify(payload));
    for (let attempt = 0; ; attempt++) {
      const nonce = await challenge();
      const header = await createProofHeader({
        credential,
        purpose,
        nonce,
        request: { host: transport.host, method: 'POST', path, body },
        signer: deps.signer,
      });
      const res = await transport.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', [PROOF_HEADER]: header },
        body,
      });
      if (res.status === 409 && attempt === 0) continue;
      return res;
    }
  }

  async function openSession(): Promise<string> {
    const cert = deps.certificate();
    const credential = cert
      ? { type: 'cert' as const, der: cert }
      : { type: 'spki' as const, der: deps.spkiDer };
    const res = await provenPost(`${API}/session`, 'session', {}, credential);
    if (res.status !== 200) throw problemError('session', res);
    const s = parseJson('session', res, sessionResponseSchema);
    session = { token: s.token, expiresAt: Date.parse(s.expiresAt) };
    return s.token;
  }

  /**
   * A request with the bearer session; a refused session is reopened once. `send` is the
   * transport's `request` (answer read whole) or `stream` (body left unread).
   */
  async function withSession<R extends { status: number }>(
    req: SessionRequest,
    send: (r: SessionRequest) => Promise<R>,
    drop: (res: R) => void = () => undefined,
  ): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      const token =
        session && session.expiresAt - SESSION_MARGIN_MS > deps.now().getTime()
          ? session.token
          : await openSession();
      const res = await send({
        ...req,
        headers: {
          ...(req.body ? { 'content-type': 'application/json' } : {}),
          ...req.headers,
          authorization: `Bearer ${token}`,
        },
      });
      if (res.status === 401 && attempt === 0) {
        drop(res);
        session = undefined;
        continue;
      }
      return res;
    }
  }
  const sessionJson = (req: SessionRequest) => withSession(req, (r) => transport.request(r));
  const sessionStream = (req: SessionRequest) =>
    withSession<PlatformStream>(
      req,
      (r) => transport.stream(r),
      (res) => res.discard(),
    );

  return {
    challenge,

    /**
     * Any device API request under `/device/v1/` with the agent's session (for the update
     * handler: manifests and reports; images go through `download`), its answer read whole (at
     * most 1 MiB). The answer comes back whatever its status;
     * `problemError` turns a refusal into the error the agent understands.
     */
    sessionRequest(req: SessionRequest): Promise<PlatformResponse> {
      if (!req.path.startsWith(`${API}/`)) throw new Error(`not a device API path: ${req.path}`);
      return sessionJson(req);
    },

    /**
     * Downloads a device API resource (an update image) into `o.file` with the session,
     * streamed: written and hashed as it arrives, resumed with Range from what the file already
     * holds, never more than `o.expectedSize` bytes (update/image-fetch.ts has the rules).
     * One attempt; the caller decides when to try again.
     */
    download(path: string, o: ImageFetchOptions): Promise<ImageFetchResult> {
      if (!path.startsWith(`${API}/`)) throw new Error(`not a device API path: ${path}`);
      return fetchImage(async (headers) => {
        const res = await sessionStream({
          method: 'GET',
          path,
          headers: { accept: 'application/octet-stream', ...headers },
        });
        return {
          status: res.status,
          header: (name) => {
            const v = res.headers[name.toLowerCase()];
            return Array.isArray(v) ? v.join(', ') : v;
          },
          body: res.body,
          discard: () => res.discard(),
        };
      }, o);
    },

    /** Enrols with a proof by the identity key (`spki=`): the CSR is for the identity key. */
    async enrol(csrDer: Buffer): Promise<EnrolResponse> {
      const res = await provenPost(
        `${API}/enrol`,
        'enrol',
        { csr: csrDer.toString('base64url') },
        { type: 'spki', der: deps.spkiDer },
      );
      if (res.status !== 200) throw problemError('enrol', res);
      return parseJson('enrol', res, enrolResponseSchema);
    },

    /** Check-in; 304 when nothing changed since the ETag. */
    async status(etag: string | undefined): Promise<StatusResult> {
      const res = await sessionJson({
        method: 'GET',
        path: `${API}/status`,
        headers: etag ? { 'if-none-match': etag } : {},
      });
      if (res.status === 304) return { notModified: true };
      if (res.status !== 200) throw problemError('check-in', res);
      const e = res.headers.etag;
      return {
        notModified: false,
        ...(typeof e === 'string' ? { etag: e } : {}),
        body: parseJson('check-in', res, statusResponseSchema),
      };
    },

    /** Renews with the session (while the certificate is valid) or, after expiry, a proof. */
    async renew(csrDer: Buffer, opts: { expired: boolean }): Promise<CertificateResponse> {
      const payload = { csr: csrDer.toString('base64url') };
      const res = opts.expired
        ? await provenPost(`${API}/renew`, 'renew', payload, { type: 'spki', der: deps.spkiDer })
        : await sessionJson({
            method: 'POST',
            path: `${API}/renew`,
            body: Buffer.from(JSON.stringify(payload)),
          });
      if (res.status !== 200) throw problemError('renew', res);
      session = undefined; // the session was tied to the old certificate's lifetime
      return parseJson('renew', res, certificateResponseSchema);
    },

    /** The current certificate (after the platform renewed it by itself). */
    async certificate(): Promise<CertificateResponse> {
      const res = await sessionJson({ method: 'GET', path: `${API}/certificate` });
      if (res.status !== 200) throw problemError('certificate', res);
      return parseJson('certificate', res, certificateResponseSchema);
    },

    /** A database-direct token (404 when the device's policy has no database connection). */
    async databaseToken(): Promise<DatabaseTokenResponse> {
      const res = await sessionJson({
        method: 'POST',
        path: `${API}/database-token`,
        body: Buffer.from('{}'),
      });
      if (res.status !== 200) throw problemError('database token', res);
      return parseJson('database token', res, databaseTokenResponseSchema);
    },

    /** A token for the AWS IoT custom authorizer of the device's hub (404: none; 409: not ready). */
    async hubToken(): Promise<HubTokenResponse> {
      const res = await sessionJson({
        method: 'POST',
        path: `${API}/hub-token`,
        body: Buffer.from('{}'),
      });
      if (res.status !== 200) throw problemError('hub token', res);
      return parseJson('hub token', res, hubTokenResponseSchema);
    },

    /** Signed time for a fresh nonce of ours; `timeUnknown` while the agent has no clock yet. */
    async time(opts: { timeUnknown: boolean }): Promise<{ nonce: string; answer: TimeResponse }> {
      const nonce = randomBytes(32).toString('base64url');
      const res = await transport.request(
        {
          method: 'POST',
          path: `${API}/time`,
          headers: { 'content-type': 'application/json' },
          body: Buffer.from(JSON.stringify({ nonce })),
        },
        { timeUnknown: opts.timeUnknown },
      );
      if (res.status !== 200) throw problemError('time', res);
      return { nonce, answer: parseJson('time', res, timeResponseSchema) };
    },

    /** Forgets the session (after a new certificate). */
    dropSession() {
      session = undefined;
    },
  };
}
export type DeviceApiClient = ReturnType<typeof createDeviceApiClient>;
