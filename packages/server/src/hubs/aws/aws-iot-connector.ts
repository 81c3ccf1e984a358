import { generateKeyPairSync } from 'node:crypto';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DescribeEndpointCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  GetRegistrationCodeCommand,
  IoTClient,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  RegisterCertificateWithoutCACommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KeyStore } from '../../keystore/keystore-types.js';
import { defaultScheme } from '../../keystore/key-algorithms.js';
import type { OutboundGuard } from '../../lib/outbound-guard.js';
import type { CaRepo } from '../../pki/ca-repo.js';
import {
  buildCertificate,
  randomSerial,
  subjectNameOf,
  toPem,
} from '../../pki/certificate-builder.js';
import type { StoredHub } from '../hub-repo.js';
import type { CloudObjectRepo } from '../cloud/cloud-object-repo.js';
import {
  CredentialsRejectedError,
  type CloudCert,
  type CloudConnector,
  type DeviceSyncPlan,
} from '../cloud/cloud-types.js';
import { checkLiteralEndpoint, guardedAgent } from '../cloud/guarded-agent.js';
import { awsCertificateId, policyNameOf, renderPolicy } from './aws-iot-fns.js';
import { regionOfFunction } from './aws-authorizer-fns.js';
import { createAuthorizerSetup, FunctionNotFoundError } from './aws-authorizer-setup.js';

export interface AwsSettings {
  region: string;
  endpoint: string;
  registration: 'per-device' | 'ca';
  policyDocument: string;
  jitpRoleArn: string | null;
  apiEndpoint: string | null;
  apiCaCertificate: string | null;
  /** The Lambda API; unset means `https://lambda.<function's region>.amazonaws.com`. */
  lambdaApiEndpoint?: string | null;
}

export interface AwsConnectorDeps {
  instanceId: string;
  hub: StoredHub;
  secrets: Record<string, string>;
  objects: CloudObjectRepo;
  caRepo: Pick<CaRepo, 'find'>;
  keystore: Pick<KeyStore, 'publicKey' | 'signer' | 'generate'>;
  guard: OutboundGuard;
  now: () => Date;
}

/** AWS errors that mean our key or its signature was refused, not that the call was wrong. */
const REJECTED = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'InvalidClientTokenId',
  'UnauthorizedException',
  'AccessDeniedException',
  'ExpiredTokenException',
]);

function translate(err: unknown): Error {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name && REJECTED.has(e.name))
    return new CredentialsRejectedError(`${e.name}: ${e.message}`);
  if (e?.$metadata?.httpStatusCode === 401 || e?.$metadata?.httpStatusCode === 403)
    return new CredentialsRejectedError(e.message ?? 'HTTP 403');
  return err instanceof Error ? err : new Error(String(err));
}

const alreadyExists = (err: unknown): { resourceId?: string; resourceArn?: string } | undefined =>
  (err as { name?: string })?.name === 'ResourceAlreadyExistsException'
    ? (err as { resourceId?: string; resourceArn?: string })
    : undefined;

/**
 * AWS IoT Core through the official SDK. Every call's outcome is recorded (hub_cloud_objects)
 * before the next, so a sync that failed half-way resumes where it stopped; calls AWS treats
 * as idempotent (attach) are simply repeated, and "already exists" counts as done.
 */
export function createAwsIotConnector(deps: AwsConnectorDeps): CloudConnector {
  const { instanceId, hub, objects, now } = deps;
  const s = hub.settings as unknown as AwsSettings;
  const endpoint = s.apiEndpoint ?? `https://iot.${s.region}.amazonaws.com`;
  const port = Number(new URL(endpoint).port || 443);
  const client = new IoTClient({
    region: s.region,
    endpoint,
    credentials: {
      accessKeyId: deps.secrets.accessKeyId ?? '',
      secretAccessKey: deps.secrets.secretAccessKey ?? '',
    },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpsAgent: guardedAgent(deps.guard, port, s.apiCaCertificate),
      connectionTimeout: 10_000,
      requestTimeout: 30_000,
    }),
  });
  // Each command's type is its own; one generic wrapper translates refusals.
  const send = async <T>(cmd: unknown): Promise<T> => {
    await checkLiteralEndpoint(deps.guard, new URL(endpoint));
    try {
      return (await client.send(cmd as never)) as T;
    } catch (err) {
      throw translate(err);
    }
  };
  const at = () => now().toISOString();
  const put = (o: Parameters<CloudObjectRepo['put']>[1]) => objects.put(instanceId, o, at());

  // The Lambda API of the custom authorizer's function, in the function's region.
  const lambdas = new Map<string, { client: LambdaClient; endpoint: string }>();
  function lambdaFor(functionArn: string) {
    const region = regionOfFunction(functionArn) ?? s.region;
    let l = lambdas.get(region);
    if (!l) {
      const ep = s.lambdaApiEndpoint ?? `https://lambda.${region}.amazonaws.com`;
      l = {
        endpoint: ep,
        client: new LambdaClient({
          region,
          endpoint: ep,
          credentials: {
            accessKeyId: deps.secrets.accessKeyId ?? '',
            secretAccessKey: deps.secrets.secretAccessKey ?? '',
          },
          maxAttempts: 1,
          requestHandler: new NodeHttpHandler({
            httpsAgent: guardedAgent(
              deps.guard,
              Number(new URL(ep).port || 443),
              s.apiCaCertificate,
            ),
            connectionTimeout: 10_000,
            requestTimeout: 30_000,
          }),
        }),
      };
      lambdas.set(region, l);
    }
    return l;
  }
  const sendLambda = async <T>(functionArn: string, cmd: unknown): Promise<T> => {
    const l = lambdaFor(functionArn);
    await checkLiteralEndpoint(deps.guard, new URL(l.endpoint));
    try {
      return (await l.client.send(cmd as never)) as T;
    } catch (err) {
      // Lambda says "Function not found" for a function that does not exist or is elsewhere.
      const e = err as { name?: string; message?: string };
      if (e?.name === 'ResourceNotFoundException' && /function not found/i.test(e.message ?? ''))
        throw new FunctionNotFoundError(functionArn, e.message!);
      throw translate(err);
    }
  };
  const authorizer = createAuthorizerSetup({
    instanceId,
    hub,
    objects,
    keystore: deps.keystore,
    send,
    sendLambda,
    now,
  });

  /** Registers our issuing CA with the verification certificate over AWS's registration code. */
  async function registerCa(caId: string): Promise<string> {
    const done = await objects.find(instanceId, hub.id, 'ca', caId);
    if (done) return done.remoteId;
    const ca = await deps.caRepo.find(instanceId, caId);
    if (!ca) throw new Error(`issuing CA ${caId} not found`);
    const { registrationCode } = await send<{ registrationCode?: string }>(
      new GetRegistrationCodeCommand({}),
    );
    if (!registrationCode) throw new Error('AWS IoT returned no registration code');
    // The verification certificate proves we hold the CA key: its subject is the code, its
    // key a throw-away one (AWS checks only the CA's signature over it).
    const throwaway = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = await deps.keystore.publicKey(instanceId, ca.keyId);
    const scheme = defaultScheme(key.algorithm);
    const sign = await deps.keystore.signer(instanceId, ca.keyId, scheme);
    const t = now();
    const verification = await buildCertificate(
      {
        serial: randomSerial(),
        issuer: subjectNameOf(ca.der),
        subject: `CN=${registrationCode}`,
        notBefore: new Date(t.getTime() - 60_000),
        notAfter: new Date(t.getTime() + 24 * 3600_000),
        subjectPublicKeyDer: throwaway.publicKey.export({ type: 'spki', format: 'der' }),
        keyUsage: 1, // digitalSignature
      },
      { scheme, sign },
    );
    let remoteId: string;
    try {
      const r = await send<{ certificateId?: string }>(
        new RegisterCACertificateCommand({
          caCertificate: toPem(ca.der),
          verificationCertificate: toPem(verification),
          setAsActive: true,
          allowAutoRegistration: s.jitpRoleArn !== null,
          registrationConfig: s.jitpRoleArn
            ? { roleArn: s.jitpRoleArn, templateBody: jitpTemplate(s.policyDocument) }
            : undefined,
        }),
      );
      remoteId = r.certificateId ?? awsCertificateId(ca.der);
    } catch (err) {
      const dup = alreadyExists(err);
      if (!dup) throw err;
      remoteId = dup.resourceId ?? awsCertificateId(ca.der);
    }
    await put({
      hubId: hub.id,
      kind: 'ca',
      localId: caId,
      deviceId: null,
      remoteId,
      state: 'active',
    });
    return remoteId;
  }

  async function registerCertificate(c: CloudCert): Promise<string> {
    try {
      if (s.registration === 'ca') {
        await registerCa(c.issuerId);
        const ca = await deps.caRepo.find(instanceId, c.issuerId);
        const r = await send<{ certificateArn?: string }>(
          new RegisterCertificateCommand({
            certificatePem: toPem(c.der),
            caCertificatePem: ca ? toPem(ca.der) : undefined,
            status: 'ACTIVE',
          }),
        );
        return r.certificateArn!;
      }
      const r = await send<{ certificateArn?: string }>(
        new RegisterCertificateWithoutCACommand({ certificatePem: toPem(c.der), status: 'ACTIVE' }),
      );
      return r.certificateArn!;
    } catch (err) {
      const dup = alreadyExists(err);
      if (dup?.resourceArn) return dup.resourceArn;
      throw err;
    }
  }

  async function syncDevice(plan: DeviceSyncPlan): Promise<void> {
    const id = plan.deviceId;
    const mine = await objects.ofDevice(instanceId, hub.id, id);
    const find = (kind: string, localId: string) =>
      mine.find((o) => o.kind === kind && o.localId === localId);
    const policyName = policyNameOf(id);

    if (plan.revoked) {
      // The certificates the device could still use first, then the retired ones.
      const order = (st: string) => (st === 'active' || st === 'registered' ? 0 : 1);
      const certs = mine
        .filter((x) => x.kind === 'certificate')
        .sort((a, b) => order(a.state) - order(b.state) || a.localId.localeCompare(b.localId));
      for (const o of certs) {
        if (o.state === 'revoked') continue;
        const certificateId = o.remoteId.split('/').pop()!;
        await send(new UpdateCertificateCommand({ certificateId, newStatus: 'REVOKED' }));
        if (o.state === 'active' || o.state === 'registered') {
          await send(new DetachThingPrincipalCommand({ thingName: id, principal: o.remoteId }));
          await send(new DetachPolicyCommand({ policyName, target: o.remoteId }));
        }
        await put({ ...o, state: 'revoked' });
      }
      return;
    }

    if (plan.keep.length && !find('thing', id)) {
      let arn: string;
      try {
        arn = (await send<{ thingArn?: string }>(new CreateThingCommand({ thingName: id })))
          .thingArn!;
      } catch (err) {
        const dup = alreadyExists(err);
        if (!dup) throw err;
        arn = dup.resourceArn ?? id;
      }
      await put({
        hubId: hub.id,
        kind: 'thing',
        localId: id,
        deviceId: id,
        remoteId: arn,
        state: 'active',
      });
    }
    if (plan.keep.length && !find('policy', id)) {
      try {
        await send(
          new CreatePolicyCommand({
            policyName,
            policyDocument: renderPolicy(s.policyDocument, id),
          }),
        );
      } catch (err) {
        if (!alreadyExists(err)) throw err;
      }
      await put({
        hubId: hub.id,
        kind: 'policy',
        localId: id,
        deviceId: id,
        remoteId: policyName,
        state: 'active',
      });
    }
    for (const c of plan.keep) {
      let o = find('certificate', c.id);
      if (o?.state === 'active') continue;
      if (!o) {
        const arn = await registerCertificate(c);
        o = {
          hubId: hub.id,
          kind: 'certificate',
          localId: c.id,
          deviceId: id,
          remoteId: arn,
          state: 'registered',
          updatedAt: at(),
        };
        await put(o);
      }
      await send(new AttachPolicyCommand({ policyName, target: o.remoteId }));
      await send(new AttachThingPrincipalCommand({ thingName: id, principal: o.remoteId }));
      await put({ ...o, state: 'active' });
    }
    for (const c of plan.retire) {
      const o = find('certificate', c.id);
      if (!o || o.state !== 'active') continue;
      const certificateId = o.remoteId.split('/').pop()!;
      await send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
      await send(new DetachThingPrincipalCommand({ thingName: id, principal: o.remoteId }));
      await send(new DetachPolicyCommand({ policyName, target: o.remoteId }));
      await put({ ...o, state: 'retired' });
    }
  }

  return {
    syncDevice,
    async registerCa(caId: string) {
      if (s.registration === 'ca') await registerCa(caId);
    },
    setUpHub: () => authorizer.run(),
    async check() {
      try {
        const r = await send<{ endpointAddress?: string }>(
          new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }),
        );
        const same = r.endpointAddress === s.endpoint;
        const base = {
          ok: true,
          detail: same
            ? `AWS IoT API accepts the key; data endpoint ${r.endpointAddress}`
            : `AWS IoT API accepts the key, but the account's data endpoint is ${r.endpointAddress}, not ${s.endpoint}`,
        };
        // With custom authentication: the authorizer as AWS holds it (DescribeAuthorizer).
        const auth = await authorizer.check();
        return auth ? { ok: auth.ok, detail: `${base.detail}; ${auth.detail}` } : base;
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    },
  };
}

/**
 * The just-in-time provisioning template registered with our CA: a device's first connection
 * creates its thing (named after the certificate's CN, our device ID), activates its
 * certificate and attaches the device's policy.
 */
export function jitpTemplate(policyTemplate: string): string {
  const marker = 'trustlink-thing-name-marker';
  const policy = renderPolicy(policyTemplate, marker)
    .split(marker)
    .join('${iot:Connection.Thing.ThingName}');
  return JSON.stringify({
    Parameters: {
      'AWS::IoT::Certificate::CommonName': { Type: 'String' },
      'AWS::IoT::Certificate::Id': { Type: 'String' },
    },
    Resources: {
      thing: {
        Type: 'AWS::IoT::Thing',
        Properties: { ThingName: { Ref: 'AWS::IoT::Certificate::CommonName' } },
      },
      certificate: {
        Type: 'AWS::IoT::Certificate',
        Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' },
      },
      policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyDocument: policy } },
    },
  });
}
