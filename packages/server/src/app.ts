import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { registerAuditRoutes } from './audit/audit-routes.js';
import { registerAuthCertRoutes } from './auth-certs/auth-cert-routes.js';
import { registerBatchRoutes } from './batches/batch-routes.js';
import { registerEnrolmentTokenRoutes } from './enrolment-tokens/enrolment-token-routes.js';
import { registerDeviceRoutes } from './devices/device-routes.js';
import { registerDeviceApiRoutes } from './enrolment/enrolment-routes.js';
import { registerDirectStatus } from './enrolment/status-direct-route.js';
import { registerEstRoutes } from './est/est-routes.js';
import type { DeviceAuthenticator } from './devices/device-authenticator.js';
import { requestContext } from './enrolment/device-auth.js';
import { registerFirmwareDeviceRoutes } from './firmware/firmware-device-routes.js';
import { registerFirmwareRoutes } from './firmware/firmware-routes.js';
import { registerPolicyRoutes } from './policies/policy-routes.js';
import { registerAccessControl } from './auth/access-hook.js';
import { registerAuthRoutes } from './auth/auth-routes.js';
import { OPENAPI_SECURITY_SCHEMES, openApiTransform } from './auth/openapi-access.js';
import { registerTokenRoutes } from './auth/token-routes.js';
import { registerConsoleRoutes } from './console/console-routes.js';
import { registerHealthRoutes } from './health/health-routes.js';
import { registerHubRoutes } from './hubs/hub-routes.js';
import { registerCloudHubRoutes } from './hubs/cloud/cloud-hub-routes.js';
import { registerDatabaseDirectRoutes } from './database-direct/database-direct-routes.js';
import { registerDatabaseDirectDeviceRoutes } from './database-direct/database-direct-device-routes.js';
import { registerHubTokenRoutes } from './hubs/aws/aws-authorizer-device-routes.js';
import { registerManufacturingRoutes } from './manufacturing/manufacturing-routes.js';
import { registerProvisioningRoutes } from './provisioning/provisioning-routes.js';
import { createMetrics } from './lib/metrics.js';
import { registerProblemHandler } from './lib/problem-handler.js';
import { registerPkiPublicRoutes } from './pki/pki-public-routes.js';
import { registerPkiRoutes } from './pki/pki-routes.js';
import { requireAccessDeclarations } from './lib/route-access.js';
import type { TlsMaterial } from './pki/instance-pki.js';
import type { Runtime } from './runtime.js';
import { registerSetupRoutes } from './setup/setup-routes.js';
import { registerUserRoutes } from './users/users-routes.js';

/** Body limit of the device API (PROTOCOL.md: bodies are small). */
export const DEVICE_BODY_LIMIT = 64 * 1024;
const MANAGEMENT_BODY_LIMIT = 1024 * 1024;
const PKI_BODY_LIMIT = 16 * 1024;

/** Accepts a caller's request id when it is a plain token; otherwise makes one. */
function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
}

function baseApp(log: Logger, https: object | null, bodyLimit: number): FastifyInstance {
  const app = Fastify({
    loggerInstance: log,
    ...(https ? { https } : {}),
    bodyLimit,
    genReqId: requestId,
    trustProxy: false,
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Routes type their schemas with withTypeProvider<ZodTypeProvider>() where they declare them.
  const plain = app as unknown as FastifyInstance;
  plain.addHook('onSend', async (req, reply) => {
    void reply.header('x-request-id', req.id);
  });
  requireAccessDeclarations(plain);
  registerProblemHandler(plain);
  return plain;
}

export interface Apps {
  management: FastifyInstance;
  device: FastifyInstance;
  /** Plain HTTP: CRLs, OCSP and CA certificates (`/pki/...`). */
  pki: FastifyInstance;
}

export interface AppOptions {
  /**
   * Which device a device-API request comes from. Until device authentication (TLS client
   * certificates and bearer sessions, the enrolment domain) is wired here, no request proves
   * a device and device routes answer 401.
   */
  authenticateDevice?: DeviceAuthenticator;
}

/**
 * Composes the two listeners: management (API, docs, console) and device (device API, EST).
 * Each domain registers its own routes here, on the listener of its audience.
 */
export async function createApps(
  runtime: Runtime,
  tls: TlsMaterial,
  log: Logger,
  opts: AppOptions = {},
): Promise<Apps> {
  const { config } = runtime;
  const metrics = createMetrics();

  const managementTls =
    config.managementTlsCertFile && config.managementTlsKeyFile
      ? {
          cert: readFileSync(config.managementTlsCertFile),
          key: readFileSync(config.managementTlsKeyFile),
        }
      : { cert: tls.chainPem, key: tls.keyPem };
  const management = baseApp(
    log.child({ listener: 'management' }),
    managementTls,
    MANAGEMENT_BODY_LIMIT,
  );
  metrics.instrument(management, 'management');
  await management.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Trustlink management API',
        version: '1',
        description:
          'Everything the console does, for automation. Errors are RFC 9457 problem details.',
      },
      servers: [{ url: `https://${config.publicHostname}:${config.managementPort}` }],
      components: { securitySchemes: OPENAPI_SECURITY_SCHEMES },
    },
    transform: openApiTransform,
  });
  await management.register(swaggerUi, { routePrefix: '/api/docs' });
  // One access hook per listener enforces every route's config.access (lib/route-access.ts).
  const instanceOf = (_req: FastifyRequest) => runtime.instance.id;
  const { access, audit } = runtime;
  await management.register(cookie);
  registerAccessControl(management, { access, audit, instanceOf });
  registerHealthRoutes(management, runtime, metrics);
  registerSetupRoutes(management, { setupClaim: access.setupClaim, instanceOf });
  registerAuthRoutes(management, { access, audit, instanceOf });
  registerTokenRoutes(management, {
    apiTokens: access.apiTokens,
    users: access.users,
    now: runtime.now,
  });
  registerUserRoutes(management, { users: access.users });
  registerAuditRoutes(management, { audit });
  registerHubRoutes(management, runtime.hubs);
  registerCloudHubRoutes(management, runtime.hubs);
  registerPkiRoutes(management, {
    pki: runtime.pkiServices,
    urls: runtime.pkiServices.urls,
    now: runtime.now,
  });
  registerPolicyRoutes(management, runtime.fleet.policies);
  registerBatchRoutes(management, runtime.fleet.batches);
  registerAuthCertRoutes(management, runtime.fleet.authCerts);
  registerEnrolmentTokenRoutes(management, runtime.fleet.enrolmentTokens);
  registerDeviceRoutes(management, runtime.enrolment.deviceService);
  registerFirmwareRoutes(management, runtime.firmware);
  registerDatabaseDirectRoutes(management, runtime.databaseDirect);
  registerManufacturingRoutes(management, {
    manufacturing: runtime.manufacturing,
    instanceOf,
    publicHostname: config.publicHostname,
    tlsSubjectAltNames: config.tlsSubjectAltNames,
    now: runtime.now,
  });
  registerProvisioningRoutes(management, runtime.provisioning);
  await registerConsoleRoutes(management);

  // The device port asks for a client certificate but lets each route decide: EST bootstrap
  // and challenge proofs work without one, and self-signed bootstrap certificates are valid.
  const device = baseApp(
    log.child({ listener: 'device' }),
    { cert: tls.chainPem, key: tls.keyPem, requestCert: true, rejectUnauthorized: false },
    DEVICE_BODY_LIMIT,
  );
  metrics.instrument(device, 'device');
  registerAccessControl(device, { access, audit, instanceOf });
  registerHealthRoutes(device, runtime);
  const deviceApi = { ...runtime.enrolment, instanceOf };
  registerDeviceApiRoutes(device, deviceApi);
  // The check-in, the fleet's most frequent request, answered before Fastify's pipeline.
  registerDirectStatus(device, {
    api: runtime.enrolment,
    instanceOf: () => runtime.instance.id,
    requestId,
    observe: (method, route, status, s) => metrics.observe('device', method, route, status, s),
  });
  registerEstRoutes(device, deviceApi);
  // Update downloads authenticate like every device call: device certificate or bearer session.
  const enrolledDevice: DeviceAuthenticator = async (req) => {
    const instanceId = instanceOf(req);
    const ctx = requestContext(req, instanceId, 'device-api');
    const who = await runtime.enrolment.auth.authenticate(req, ctx, 'device.update');
    return { instanceId, deviceId: who.device.id, batchId: who.device.batchId };
  };
  registerFirmwareDeviceRoutes(device, {
    devices: runtime.firmware.devices,
    authenticateDevice: opts.authenticateDevice ?? enrolledDevice,
  });

  registerDatabaseDirectDeviceRoutes(device, {
    ...runtime.databaseDirect,
    data: runtime.databaseDirect.writes,
    instanceOf,
    authenticate: (req, ctx, action) => runtime.enrolment.auth.authenticate(req, ctx, action),
    audit: runtime.enrolment.audit,
  });

  registerHubTokenRoutes(device, {
    tokens: runtime.hubs.authorizerTokens,
    instanceOf,
    authenticate: (req, ctx, action) => runtime.enrolment.auth.authenticate(req, ctx, action),
    audit: runtime.enrolment.audit,
  });

  // Relying parties fetch CRLs and OCSP over plain HTTP (RFC 5280/6960): the objects are signed.
  const pki = baseApp(log.child({ listener: 'pki' }), null, PKI_BODY_LIMIT);
  metrics.instrument(pki, 'pki');
  registerAccessControl(pki, { access, audit, instanceOf });
  registerHealthRoutes(pki, runtime);
  registerPkiPublicRoutes(pki, {
    crl: runtime.pkiServices.crl,
    ocsp: runtime.pkiServices.ocsp,
    caRepo: runtime.pkiServices.caRepo,
  });

  return { management, device, pki };
}
