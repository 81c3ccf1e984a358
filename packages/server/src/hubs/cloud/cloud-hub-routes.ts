import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../auth/principal.js';
import { NotFoundError } from '../../lib/errors.js';
import { DEFAULT_AWS_POLICY } from '../aws/aws-iot-fns.js';
import type { HubService } from '../hub-service.js';
import { AMAZON_ROOT_CA_1, AZURE_ROOTS } from './cloud-roots.js';
import type { CloudSync } from './cloud-sync-service.js';
import { isCloudHub } from './cloud-types.js';

const cloudDefaultsSchema = z.object({
  'aws-iot-core': z.object({
    port: z.number(),
    registration: z.string(),
    policyDocument: z.string(),
    rootCertificate: z.string(),
  }),
  'azure-iot-hub': z.object({ authentication: z.string(), rootCertificate: z.string() }),
  'azure-iot-central': z.object({ rootCertificate: z.string() }),
});

const cloudObjectsSchema = z.object({
  hubId: z.string(),
  deviceId: z.string(),
  objects: z.array(
    z.object({
      kind: z.string(),
      localId: z.string(),
      remoteId: z.string(),
      state: z.string(),
      updatedAt: z.string(),
    }),
  ),
});

/**
 * Cloud hub extras for forms and device pages: the prefilled values of each cloud type (so a
 * form can show them before the hub exists), and what the platform has put in a cloud for one
 * device (thing, policy, certificates, identity) with each object's state.
 */
export function registerCloudHubRoutes(
  app: FastifyInstance,
  deps: { hubs: HubService; cloud: CloudSync },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['hubs'];
  r.get(
    '/api/v1/hubs/defaults',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'getCloudHubDefaults',
        summary: 'Prefilled settings of the cloud hub types (root CAs, AWS policy template)',
        response: { 200: cloudDefaultsSchema },
      },
    },
    async () => ({
      'aws-iot-core': {
        port: 8883,
        registration: 'per-device',
        policyDocument: DEFAULT_AWS_POLICY,
        rootCertificate: AMAZON_ROOT_CA_1,
      },
      'azure-iot-hub': { authentication: 'thumbprint', rootCertificate: AZURE_ROOTS },
      'azure-iot-central': { rootCertificate: AZURE_ROOTS },
    }),
  );
  r.get(
    '/api/v1/hubs/:id/devices/:deviceId',
    {
      config: { access: 'user' },
      schema: {
        tags,
        operationId: 'getCloudHubDevice',
        summary: 'What the platform has registered in a cloud hub for one device',
        params: z.object({
          id: z.string().min(1).max(64),
          deviceId: z.string().regex(/^[0-9a-fA-F-]{1,128}$/, 'must be a device ID'),
        }),
        response: { 200: cloudObjectsSchema },
      },
    },
    async (req) => {
      const { instanceId } = principalOf(req);
      const hub = await deps.hubs.find(instanceId, req.params.id);
      if (!hub) throw new NotFoundError(`IoT hub ${req.params.id} not found`);
      if (!isCloudHub(hub))
        throw new NotFoundError(`IoT hub "${hub.name}" is not a cloud hub (${hub.type})`);
      const deviceId = req.params.deviceId.toLowerCase();
      const objects = await deps.cloud.objectsOf(instanceId, hub.id, deviceId);
      return {
        hubId: hub.id,
        deviceId,
        objects: objects.map((o) => ({
          kind: o.kind,
          localId: o.localId,
          remoteId: o.remoteId,
          state: o.state,
          updatedAt: o.updatedAt,
        })),
      };
    },
  );
}
