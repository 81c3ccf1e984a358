import {
  createHash,
  createHmac,
  createPublicKey,
  randomBytes,
  timingSafeEqual,
  verify,
  X509Certificate,
} from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { HttpRequest } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { parseSasToken } from '../hubs/azure/azure-sas-fns.js';
import { openssl, scratch } from './test-openssl.js';

/** One request a fake cloud accepted: "METHOD /path" and what came with it. */
export interface CloudCall {
  call: string;
  query: Record<string, string>;
  body: Record<string, unknown>;
  headers: Record<string, string | undefined>;
}

type Handler = (
  req: IncomingMessage,
  url: URL,
  body: Buffer,
) => Promise<{ status: number; body?: unknown; headers?: Record<string, string> }>;

/** A self-signed TLS certificate for 127.0.0.1 (the fakes' endpoint). */
function tlsMaterial(): { cert: string; key: string } {
  const s = scratch();
  try {
    const keyFile = s.file('key.pem', '');
    const certFile = s.file('cert.pem', '');
    const r = openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=fake-cloud',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-days',
      '2',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ]);
    if (r.status !== 0) throw new Error(r.out);
    return {
      cert: openssl(['x509', '-in', certFile]).out,
      key: openssl(['pkey', '-in', keyFile]).out,
    };
  } finally {
    s.remove();
  }
}

/**
 * An HTTPS endpoint on 127.0.0.1 that can be stopped and started again on the same port (a
 * cloud that was down and is back). Every accepted request is recorded in `calls`; a request
 * the handler refuses is recorded in `refused` with the reason.
 */
function fakeEndpoint(handler: Handler) {
  const { cert, key } = tlsMaterial();
  const calls: CloudCall[] = [];
  const refused: { call: string; status: number; reason: string }[] = [];
  /** Every request in order, accepted or not, as "METHOD /path -> status". */
  const log: string[] = [];
  let server: https.Server | undefined;
  let port = 0;
  const sockets = new Set<Socket>();
  /** Calls ("METHOD /path") that fail once with a 500, as a service under strain would. */
  const failOnce: string[] = [];

  async function onRequest(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', `https://${req.headers.host}`);
    const call = `${req.method} ${url.pathname}`;
    let out: Awaited<ReturnType<Handler>>;
    try {
      const failing = failOnce.indexOf(call);
      if (failing >= 0) {
        failOnce.splice(failing, 1);
        out = { status: 500, body: { message: 'injected failure' } };
      } else out = await handler(req, url, raw);
    } catch (err) {
      out = { status: 500, body: { message: (err as Error).message } };
    }
    log.push(`${call} -> ${out.status}`);
    if (out.status >= 200 && out.status < 300) {
      let body: Record<string, unknown> = {};
      try {
        body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      } catch {
        /* recorded empty */
      }
      calls.push({
        call,
        query: Object.fromEntries(url.searchParams),
        body,
        headers: req.headers as Record<string, string | undefined>,
      });
    } else {
      refused.push({ call, status: out.status, reason: JSON.stringify(out.body ?? '') });
    }
    const text = out.body === undefined ? '' : JSON.stringify(out.body);
    res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
    res.end(text);
  }

  return {
    /** The endpoint's certificate, for the hub's apiCaCertificate setting. */
    caPem: cert,
    calls,
    refused,
    log,
    failOnce,
    url: () => `https://127.0.0.1:${port}`,
    async start(): Promise<void> {
      server = https.createServer({ cert, key }, (req, res) => void onRequest(req, res));
      server.on('connection', (s: Socket) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, '127.0.0.1', () => resolve());
      });
      port = (server.address() as { port: number }).port;
    },
    async stop(): Promise<void> {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    },
    /** The recorded calls as "METHOD /path", from index `from` on. */
    names: (from = 0) => calls.slice(from).map((c) => c.call),
  };
}
export type FakeEndpoint = ReturnType<typeof fakeEndpoint>;

const awsError = (status: number, type: string, message: string, extra: object = {}) => ({
  status,
  headers: { 'x-amzn-errortype': type },
  body: { message, ...extra },
});

/**
 * A local stand-in for the AWS IoT control-plane API that checks what AWS checks: every
 * request's SigV4 signature (re-signed here with the same secret through Smithy's own
 * signer and compared), the access key, region and service; the documented REST paths; and
 * the objects' rules (a certificate registered under a CA must be signed by a registered CA,
 * the CA's verification certificate must carry the registration code and be signed by it,
 * attach and detach need what they name).
 */
export function fakeAwsIot(opts: {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  account?: string;
}) {
  const account = opts.account ?? '123456789012';
  const arn = (kind: string, id: string) => `arn:aws:iot:${opts.region}:${account}:${kind}/${id}`;
  const state = {
    certs: new Map<string, { status: string; der: Buffer; caId: string | null }>(),
    cas: new Map<string, { der: Buffer; status: string }>(),
    things: new Map<string, Set<string>>(),
    policies: new Map<string, { document: string; targets: Set<string> }>(),
    registrationCode: undefined as string | undefined,
    /** Custom authorizers by name (CreateAuthorizer, UpdateAuthorizer ...). */
    authorizers: new Map<string, Authorizer>(),
    defaultAuthorizer: undefined as string | undefined,
    /**
     * Lambda functions of the account by ARN, with their resource-policy statements. A test
     * adds the functions that exist; AddPermission to any other is "Function not found".
     */
    functions: new Map<string, Map<string, LambdaStatement>>(),
  };

  /**
   * What AWS IoT does with a token before it invokes the authorizer's Lambda: the signature
   * (base64) must verify over the token with one of the authorizer's registered public keys
   * (RSA, SHA-256).
   */
  function checkToken(name: string, token: string, signature: string): boolean {
    const a = state.authorizers.get(name);
    if (!a || a.status !== 'ACTIVE') return false;
    return Object.values(a.tokenSigningPublicKeys).some((pem) =>
      verify('sha256', Buffer.from(token), pem, Buffer.from(signature, 'base64')),
    );
  }

  async function verifySignature(req: IncomingMessage, url: URL, body: Buffer) {
    const auth = req.headers.authorization ?? '';
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (!m)
      return awsError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const [, akid, , region, service, signedHeaders, signature] = m;
    if (akid !== opts.accessKeyId)
      return awsError(
        403,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    // The Lambda API (custom authorizers' permissions) signs for lambda, the rest for iot.
    const expectedService = url.pathname.startsWith('/2015-03-31/') ? 'lambda' : 'iot';
    if (region !== opts.region || service !== expectedService)
      return awsError(
        403,
        'InvalidSignatureException',
        `Credential should be scoped to a valid region and to ${expectedService}, not ${region}/${service}`,
      );
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!dm) return awsError(403, 'InvalidSignatureException', 'x-amz-date is missing');
    const signingDate = new Date(`${dm[1]}-${dm[2]}-${dm[3]}T${dm[4]}:${dm[5]}:${dm[6]}Z`);
    if (Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000)
      return awsError(403, 'InvalidSignatureException', 'Signature expired');
    const headers: Record<string, string> = {};
    for (const h of signedHeaders!.split(';')) headers[h] = String(req.headers[h] ?? '');
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => (query[k] = v));
    const request = new HttpRequest({
      method: req.method,
      protocol: 'https:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers,
      body: body.length ? body : undefined,
    });
    const signer = new SignatureV4({
      credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
      region: opts.region,
      service: expectedService,
      sha256: Hash.bind(null, 'sha256'),
    });
    const signed = await signer.sign(request, { signingDate });
    const expected =
      /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? '';
    // The body hash is part of what is signed: a changed body fails here too.
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(signature!)))
      return awsError(
        403,
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided.',
      );
    return undefined;
  }

  const handler: Handler = async (req, url, raw) => {
    const refusal = await verifySignature(req, url, raw);
    if (refusal) return refusal;
    const body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, string>) : {};
    const p = url.pathname.split('/').map(decodeURIComponent);
    const route = `${req.method} /${p[1]}${p.length > 3 ? `/*/${p[3]}` : p.length > 2 ? '/*' : ''}`;
    const certOf = (pem: string) => new X509Certificate(pem);
    if (p[1] === '2015-03-31') return lambdaRoute(req, p, raw);
    if (p[1] === 'authorizer' || p[1] === 'default-authorizer') return authorizerRoute(req, p, raw);
    switch (route) {
      case 'GET /endpoint':
        if (url.searchParams.get('endpointType') !== 'iot:Data-ATS')
          return awsError(400, 'InvalidRequestException', 'endpointType');
        return {
          status: 200,
          body: { endpointAddress: `a1b2c3-ats.iot.${opts.region}.amazonaws.com` },
        };
      case 'GET /registrationcode':
        state.registrationCode = randomBytes(32).toString('hex');
        return { status: 200, body: { registrationCode: state.registrationCode } };
      case 'POST /cacertificate': {
        const ca = certOf(body.caCertificate!);
        const v = certOf(body.verificationCertificate!);
        if (!state.registrationCode || v.subject !== `CN=${state.registrationCode}`)
          return awsError(
            400,
            'CertificateValidationException',
            'verification certificate does not carry the registration code',
          );
        if (!v.verify(ca.publicKey))
          return awsError(
            400,
            'CertificateValidationException',
            'verification certificate is not signed by the CA',
          );
        const id = createHash('sha256').update(ca.raw).digest('hex');
        if (state.cas.has(id))
          return awsError(409, 'ResourceAlreadyExistsException', 'exists', {
            resourceId: id,
            resourceArn: arn('cacert', id),
          });
        state.cas.set(id, {
          der: ca.raw,
          status: url.searchParams.get('setAsActive') === 'true' ? 'ACTIVE' : 'INACTIVE',
        });
        return { status: 200, body: { certificateId: id, certificateArn: arn('cacert', id) } };
      }
      case 'POST /certificate/*': {
        const c = certOf(body.certificatePem!);
        const id = createHash('sha256').update(c.raw).digest('hex');
        let caId: string | null = null;
        if (p[2] === 'register') {
          if (!body.caCertificatePem)
            return awsError(400, 'InvalidRequestException', 'caCertificatePem');
          const ca = certOf(body.caCertificatePem);
          caId = createHash('sha256').update(ca.raw).digest('hex');
          if (state.cas.get(caId)?.status !== 'ACTIVE')
            return awsError(
              400,
              'CertificateValidationException',
              'the CA certificate is not registered and active',
            );
          if (!c.verify(ca.publicKey))
            return awsError(
              400,
              'CertificateValidationException',
              'the certificate is not signed by that CA',
            );
        } else if (p[2] !== 'register-no-ca') return { status: 404, body: { message: 'no route' } };
        if (state.certs.has(id))
          return awsError(409, 'ResourceAlreadyExistsException', 'exists', {
            resourceId: id,
            resourceArn: arn('cert', id),
          });
        state.certs.set(id, { status: body.status ?? 'INACTIVE', der: c.raw, caId });
        return { status: 200, body: { certificateId: id, certificateArn: arn('cert', id) } };
      }
      case 'POST /things/*':
        if (!/^[a-zA-Z0-9:_-]{1,128}$/.test(p[2]!))
          return awsError(400, 'InvalidRequestException', 'thingName');
        if (!state.things.has(p[2]!)) state.things.set(p[2]!, new Set());
        return {
          status: 200,
          body: { thingName: p[2], thingArn: arn('thing', p[2]!), thingId: p[2] },
        };
      case 'POST /policies/*': {
        if (state.policies.has(p[2]!))
          return awsError(409, 'ResourceAlreadyExistsException', 'exists');
        JSON.parse(body.policyDocument!);
        state.policies.set(p[2]!, { document: body.policyDocument!, targets: new Set() });
        return { status: 200, body: { policyName: p[2], policyArn: arn('policy', p[2]!) } };
      }
      case 'PUT /target-policies/*':
      case 'POST /target-policies/*': {
        const policy = state.policies.get(p[2]!);
        const certId = body.target?.split('/').pop() ?? '';
        if (!policy || !state.certs.has(certId))
          return awsError(404, 'ResourceNotFoundException', 'no such policy or target');
        if (req.method === 'PUT') policy.targets.add(body.target!);
        else policy.targets.delete(body.target!);
        return { status: 200, body: {} };
      }
      case 'PUT /things/*/principals':
      case 'DELETE /things/*/principals': {
        const thing = state.things.get(p[2]!);
        const principal = String(req.headers['x-amzn-principal'] ?? '');
        if (!thing || !state.certs.has(principal.split('/').pop()!))
          return awsError(404, 'ResourceNotFoundException', 'no such thing or principal');
        if (req.method === 'PUT') thing.add(principal);
        else thing.delete(principal);
        return { status: 200, body: {} };
      }
      case 'PUT /certificates/*': {
        const c = state.certs.get(p[2]!);
        const s = url.searchParams.get('newStatus') ?? '';
        if (!c) return awsError(404, 'ResourceNotFoundException', 'no such certificate');
        if (!['ACTIVE', 'INACTIVE', 'REVOKED'].includes(s))
          return awsError(400, 'InvalidRequestException', 'newStatus');
        c.status = s;
        return { status: 200 };
      }
      default:
        return { status: 404, body: { message: `no route ${route}` } };
    }
  };
  /** AWS IoT's custom-authorizer API: the documented paths, bodies and rules. */
  function authorizerRoute(req: IncomingMessage, p: string[], raw: Buffer) {
    const body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    const name = p[2] ?? '';
    const a = state.authorizers.get(name);
    const notFound = () =>
      awsError(404, 'ResourceNotFoundException', `authorizer ${name} not found`);
    const describe = (x: Authorizer) => ({
      authorizerDescription: {
        authorizerName: x.name,
        authorizerArn: arn('authorizer', x.name),
        authorizerFunctionArn: x.authorizerFunctionArn,
        tokenKeyName: x.tokenKeyName,
        tokenSigningPublicKeys: x.tokenSigningPublicKeys,
        status: x.status,
        signingDisabled: x.signingDisabled,
      },
    });
    /** Signing keys must be PEM public keys of at least 2048 bits (RSA). */
    const badKeys = (keys: unknown): string | undefined => {
      if (!keys || typeof keys !== 'object' || !Object.keys(keys).length)
        return 'tokenSigningPublicKeys is required when signing is enabled';
      for (const [k, pem] of Object.entries(keys as Record<string, string>)) {
        if (!/^[a-zA-Z0-9:_-]+$/.test(k)) return `key name ${k}`;
        try {
          const key = createPublicKey(pem);
          if (
            key.asymmetricKeyType !== 'rsa' ||
            (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048
          )
            return 'signing keys must be RSA keys of at least 2048 bits';
        } catch {
          return `key ${k} is not a PEM public key`;
        }
      }
      return undefined;
    };
    const route = `${req.method} /${p[1]}${p.length > 3 ? `/*/${p[3]}` : p.length > 2 ? '/*' : ''}`;
    switch (route) {
      case 'GET /default-authorizer': {
        const d = state.defaultAuthorizer && state.authorizers.get(state.defaultAuthorizer);
        return d
          ? { status: 200, body: describe(d) }
          : awsError(404, 'ResourceNotFoundException', 'no default authorizer');
      }
      case 'POST /default-authorizer': {
        const n = String(body.authorizerName ?? '');
        if (!state.authorizers.has(n))
          return awsError(404, 'ResourceNotFoundException', `authorizer ${n} not found`);
        state.defaultAuthorizer = n;
        return { status: 200, body: { authorizerName: n, authorizerArn: arn('authorizer', n) } };
      }
      case 'DELETE /default-authorizer':
        state.defaultAuthorizer = undefined;
        return { status: 200, body: {} };
      case 'GET /authorizer/*':
        return a ? { status: 200, body: describe(a) } : notFound();
      case 'POST /authorizer/*': {
        if (!/^[\w=,@-]{1,128}$/.test(name))
          return awsError(400, 'InvalidRequestException', 'authorizerName');
        if (a)
          return awsError(409, 'ResourceAlreadyExistsException', 'exists', {
            resourceId: name,
            resourceArn: arn('authorizer', name),
          });
        if (typeof body.authorizerFunctionArn !== 'string' || !body.authorizerFunctionArn)
          return awsError(400, 'InvalidRequestException', 'authorizerFunctionArn is required');
        const signingDisabled = body.signingDisabled === true;
        if (!signingDisabled) {
          if (typeof body.tokenKeyName !== 'string' || !/^[a-zA-Z0-9_-]+$/.test(body.tokenKeyName))
            return awsError(
              400,
              'InvalidRequestException',
              'tokenKeyName is required when signing is enabled',
            );
          const bad = badKeys(body.tokenSigningPublicKeys);
          if (bad) return awsError(400, 'InvalidRequestException', bad);
        }
        if (body.status !== undefined && body.status !== 'ACTIVE' && body.status !== 'INACTIVE')
          return awsError(400, 'InvalidRequestException', 'status');
        state.authorizers.set(name, {
          name,
          authorizerFunctionArn: body.authorizerFunctionArn,
          tokenKeyName: body.tokenKeyName as string | undefined,
          tokenSigningPublicKeys: (body.tokenSigningPublicKeys ?? {}) as Record<string, string>,
          status: (body.status as string | undefined) ?? 'ACTIVE',
          signingDisabled,
        });
        return {
          status: 200,
          body: { authorizerName: name, authorizerArn: arn('authorizer', name) },
        };
      }
      case 'PUT /authorizer/*': {
        if (!a) return notFound();
        if (body.tokenSigningPublicKeys !== undefined) {
          const bad = badKeys(body.tokenSigningPublicKeys);
          if (bad) return awsError(400, 'InvalidRequestException', bad);
          a.tokenSigningPublicKeys = body.tokenSigningPublicKeys as Record<string, string>;
        }
        if (body.status !== undefined) {
          if (body.status !== 'ACTIVE' && body.status !== 'INACTIVE')
            return awsError(400, 'InvalidRequestException', 'status');
          a.status = body.status;
        }
        if (typeof body.authorizerFunctionArn === 'string')
          a.authorizerFunctionArn = body.authorizerFunctionArn;
        if (typeof body.tokenKeyName === 'string') a.tokenKeyName = body.tokenKeyName;
        return {
          status: 200,
          body: { authorizerName: name, authorizerArn: arn('authorizer', name) },
        };
      }
      case 'DELETE /authorizer/*':
        if (!a) return notFound();
        if (a.status === 'ACTIVE' || state.defaultAuthorizer === name)
          return awsError(
            409,
            'DeleteConflictException',
            'an active or default authorizer cannot be deleted',
          );
        state.authorizers.delete(name);
        return { status: 200, body: {} };
      case 'POST /authorizer/*/test': {
        if (!a) return notFound();
        const ok = checkToken(name, String(body.token ?? ''), String(body.tokenSignature ?? ''));
        if (!ok)
          return awsError(400, 'InvalidRequestException', 'the token signature does not verify');
        // The Lambda is the user's: the fake answers as one that accepts the token.
        return {
          status: 200,
          body: { isAuthenticated: true, principalId: 'fake', policyDocuments: [] },
        };
      }
      default:
        return { status: 404, body: { message: `no route ${route}` } };
    }
  }

  /** The Lambda API's resource-policy calls (AddPermission, RemovePermission). */
  function lambdaRoute(req: IncomingMessage, p: string[], raw: Buffer) {
    const lambdaError = (status: number, type: string, message: string) => ({
      status,
      headers: { 'x-amzn-errortype': type },
      body: { Type: 'User', message },
    });
    if (p[2] !== 'functions' || p[4] !== 'policy')
      return { status: 404, body: { message: 'no route' } };
    const fn = p[3]!;
    const statements = state.functions.get(fn);
    if (!statements)
      return lambdaError(404, 'ResourceNotFoundException', `Function not found: ${fn}`);
    if (req.method === 'POST' && p.length === 5) {
      const body = JSON.parse(raw.toString('utf8')) as Record<string, string>;
      if (!body.StatementId || !body.Action || !body.Principal)
        return lambdaError(
          400,
          'InvalidParameterValueException',
          'StatementId, Action and Principal are required',
        );
      if (statements.has(body.StatementId))
        return lambdaError(
          409,
          'ResourceConflictException',
          `The statement id (${body.StatementId}) provided already exists.`,
        );
      const st = { action: body.Action, principal: body.Principal, sourceArn: body.SourceArn };
      statements.set(body.StatementId, st);
      return { status: 201, body: { Statement: JSON.stringify(st) } };
    }
    if (req.method === 'DELETE' && p.length === 6) {
      if (!statements.delete(p[5]!))
        return lambdaError(
          404,
          'ResourceNotFoundException',
          'The resource you requested does not exist.',
        );
      return { status: 204 };
    }
    return { status: 404, body: { message: 'no route' } };
  }

  return { ...fakeEndpoint(handler), state, checkToken };
}

interface Authorizer {
  name: string;
  authorizerFunctionArn: string;
  tokenKeyName: string | undefined;
  tokenSigningPublicKeys: Record<string, string>;
  status: string;
  signingDisabled: boolean;
}

interface LambdaStatement {
  action: string;
  principal: string;
  sourceArn: string | undefined;
}

interface IdentityBody {
  deviceId?: string;
  status?: string;
  authentication?: {
    type?: string;
    x509Thumbprint?: { primaryThumbprint?: string | null; secondaryThumbprint?: string | null };
  };
}

/**
 * A local stand-in for an Azure IoT hub's service REST API: checks the SAS token as the hub
 * does (resource = the hub's host name, policy name, expiry in the future, HMAC-SHA256 with
 * the policy key over the URL-encoded resource and expiry), the api-version and the device
 * identity bodies.
 */
export function fakeAzureIotHub(opts: {
  hostName: string;
  policyName: string;
  key: string;
  apiVersion: string;
}) {
  const devices = new Map<string, IdentityBody>();
  const handler: Handler = async (req, url, raw) => {
    const t = parseSasToken(String(req.headers.authorization ?? ''));
    if (!t)
      return { status: 401, body: { Message: 'ErrorCode:IotHubUnauthorizedAccess;Unauthorized' } };
    const sig = createHmac('sha256', Buffer.from(opts.key, 'base64'))
      .update(`${encodeURIComponent(t.sr)}\n${t.se}`)
      .digest('base64');
    if (
      t.sr !== opts.hostName ||
      t.skn !== opts.policyName ||
      t.se * 1000 < Date.now() ||
      sig !== t.sig
    )
      return { status: 401, body: { Message: 'ErrorCode:IotHubUnauthorizedAccess;Unauthorized' } };
    if (url.searchParams.get('api-version') !== opts.apiVersion)
      return { status: 400, body: { Message: 'ErrorCode:InvalidProtocolVersion' } };
    const p = url.pathname.split('/').map(decodeURIComponent);
    if (req.method === 'GET' && url.pathname === '/statistics/service')
      return { status: 200, body: { connectedDeviceCount: 0 } };
    if (req.method === 'PUT' && p[1] === 'devices' && p.length === 3) {
      const body = JSON.parse(raw.toString('utf8')) as IdentityBody;
      const id = p[2]!;
      if (body.deviceId !== id)
        return { status: 400, body: { Message: 'deviceId differs from the path' } };
      if (devices.has(id) && req.headers['if-match'] === undefined)
        return { status: 409, body: { Message: 'ErrorCode:DeviceAlreadyExists' } };
      if (!devices.has(id) && req.headers['if-match'] !== undefined)
        return { status: 404, body: { Message: 'ErrorCode:DeviceNotFound' } };
      if (!['enabled', 'disabled'].includes(body.status ?? ''))
        return { status: 400, body: { Message: 'status' } };
      const a = body.authentication;
      const tp = /^([0-9A-F]{40}|[0-9A-F]{64})$/;
      if (a?.type === 'selfSigned') {
        if (!tp.test(a.x509Thumbprint?.primaryThumbprint ?? ''))
          return { status: 400, body: { Message: 'primaryThumbprint' } };
        const s = a.x509Thumbprint?.secondaryThumbprint;
        if (s !== null && s !== undefined && !tp.test(s))
          return { status: 400, body: { Message: 'secondaryThumbprint' } };
      } else if (a?.type !== 'certificateAuthority')
        return { status: 400, body: { Message: 'authentication' } };
      devices.set(id, body);
      return { status: 200, body: { ...body, etag: randomBytes(6).toString('hex') } };
    }
    return { status: 404, body: { Message: 'no route' } };
  };
  return { ...fakeEndpoint(handler), devices };
}

interface CentralBody {
  displayName?: unknown;
  enabled?: unknown;
  type?: string;
  x509?: { clientCertificates?: Record<string, { certificate?: string } | undefined> };
}

/** A local stand-in for an IoT Central application's REST API (API token, api-version, bodies). */
export function fakeAzureIotCentral(opts: { token: string; apiVersion: string }) {
  const devices = new Map<string, { enabled: boolean; attestation?: CentralBody }>();
  const handler: Handler = async (req, url, raw) => {
    if (req.headers.authorization !== opts.token)
      return {
        status: 401,
        body: { error: { code: 'Unauthorized', message: 'The API token is not valid' } },
      };
    if (url.searchParams.get('api-version') !== opts.apiVersion)
      return { status: 400, body: { error: { code: 'InvalidApiVersion' } } };
    const p = url.pathname.split('/').map(decodeURIComponent);
    const body = raw.length ? (JSON.parse(raw.toString('utf8')) as CentralBody) : {};
    if (req.method === 'GET' && url.pathname === '/api/roles')
      return { status: 200, body: { value: [] } };
    if (p[1] !== 'api' || p[2] !== 'devices' || !p[3]) return { status: 404, body: {} };
    const id = p[3];
    if (req.method === 'PUT' && p.length === 4) {
      if (typeof body.displayName !== 'string' || body.enabled !== true)
        return { status: 400, body: {} };
      devices.set(id, { enabled: true });
      return { status: 200, body: { id, ...body } };
    }
    const d = devices.get(id);
    if (!d) return { status: 404, body: { error: { code: 'NotFound' } } };
    if (req.method === 'PATCH' && p.length === 4) {
      if (typeof body.enabled !== 'boolean') return { status: 400, body: {} };
      d.enabled = body.enabled;
      return { status: 200, body: { id, enabled: d.enabled } };
    }
    if (req.method === 'PUT' && p[4] === 'attestation') {
      const certs = body.x509?.clientCertificates;
      if (body.type !== 'x509' || !certs?.primary?.certificate) return { status: 400, body: {} };
      for (const k of ['primary', 'secondary'])
        if (certs[k]) new X509Certificate(certs[k].certificate ?? '');
      d.attestation = body;
      return { status: 200, body };
    }
    return { status: 404, body: {} };
  };
  return { ...fakeEndpoint(handler), devices };
}
