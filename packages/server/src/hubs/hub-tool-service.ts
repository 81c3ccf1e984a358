import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import { recordChange } from '../audit/record-change.js';
import type { Db, Executor } from '../db/database.js';
import { isUniqueViolation } from '../db/db-errors.js';
import { BadRequestError, ConflictError, NotFoundError } from '../lib/errors.js';
import type { OutboxRepo } from '../outbox/outbox-repo.js';
import { toPem } from '../pki/certificate-builder.js';
import { csrBytes, parseCsr } from '../pki/csr-fns.js';
import type { DeviceCertService } from '../pki/device-cert-service.js';
import type { IssuingCaService } from '../pki/issuing-ca-service.js';
import { expandFilters } from '../mqtt/mqtt-rules-fns.js';
import { rulesOf } from '../mqtt/embedded-broker.js';
import type { HubRepo, HubTool, StoredHub } from './hub-repo.js';
import { HUB_SYNC_TOPIC } from './hub-service.js';
import { BROKER_TYPES } from './hub-types.js';
import { csrForKey, toolClientId, toolZip, type ToolBundle } from './tool-credentials-fns.js';

const YEAR_SECONDS = 365 * 24 * 3600;
const TOOLS_CA_SECONDS = 5 * YEAR_SECONDS;

export const toolInputSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, 'is required')
      .max(64, 'must be at most 64 characters')
      .regex(
        /^[\p{L}\p{N} ._-]+$/u,
        'may hold letters, digits, spaces, dot, underscore and hyphen',
      ),
    /** PEM or base64 PKCS#10 of a key the user keeps; absent: the platform makes a P-256 key. */
    csr: z
      .string()
      .min(1)
      .max(16 * 1024)
      .optional(),
    validityDays: z.number().int().min(1).max(3650).default(365),
  })
  .strict();
export type ToolInput = z.infer<typeof toolInputSchema>;

export const toolSchema = z.object({
  id: z.string(),
  hubId: z.string(),
  name: z.string(),
  clientId: z.string(),
  certificateId: z.string(),
  keySource: z.enum(['generated', 'csr']),
  notAfter: z.string(),
  createdAt: z.string(),
});
export type Tool = z.infer<typeof toolSchema>;

export interface HubToolServiceDeps {
  db: Db;
  repo: HubRepo;
  audit: AuditService;
  outbox: OutboxRepo;
  issuingCas: Pick<IssuingCaService, 'create' | 'pem'>;
  deviceCerts: Pick<DeviceCertService, 'issueDeviceCertificate' | 'revoke' | 'get'>;
  /** PEM of the instance root (the embedded broker's TLS certificate chains to it). */
  rootPem(instanceId: string): Promise<string>;
  /** Where tools reach the embedded broker. */
  embeddedEndpoint(): { host: string; port: number };
  /** Told when a tool is removed, after its certificate is revoked (brokers cut it off). */
  onRemoved(instanceId: string, hubId: string, clientId: string): Promise<void>;
  now?: () => Date;
}

/**
 * Third-party tools of broker-type hubs (Node-RED, MQTT Explorer): each gets a certificate
 * from the hub's own issuing CA and a client ID. A key the platform makes is handed over once,
 * in the creation answer, and never stored; or the user sends a CSR and keeps the key.
 */
export function createHubToolService(deps: HubToolServiceDeps) {
  const { db, repo, audit, outbox, issuingCas, deviceCerts } = deps;
  const now = deps.now ?? (() => new Date());

  async function brokerHub(instanceId: string, hubId: string): Promise<StoredHub> {
    const hub = await repo.find(instanceId, hubId);
    if (!hub) throw new NotFoundError(`IoT hub ${hubId} not found`);
    if (!BROKER_TYPES.includes(hub.type))
      throw new ConflictError(
        `IoT hub "${hub.name}" is of type ${hub.type}, which has no tools`,
        'no-tools',
      );
    return hub;
  }

  /** The hub's tools CA, made on first use; a concurrent request's CA wins the race. */
  async function ensureToolsCa(
    instanceId: string,
    given: StoredHub,
    ctx: AuditContext,
  ): Promise<string> {
    const hub = (await repo.find(instanceId, given.id)) ?? given;
    if (hub.toolsCaId) return hub.toolsCaId;
    const ca = await issuingCas.create(
      instanceId,
      {
        name: `hub ${hub.name} tools`,
        lifetimeSeconds: TOOLS_CA_SECONDS,
        keyType: 'P-256',
        autoRenew: true,
      },
      ctx,
    );
    if (await repo.setToolsCa(instanceId, hub.id, ca.id)) return ca.id;
    return (await repo.find(instanceId, hub.id))!.toolsCaId!;
  }

  function endpointOf(hub: StoredHub): {
    host: string;
    port: number;
    caPem: Promise<string> | string;
  } {
    if (hub.type === 'mosquitto')
      return {
        host: String(hub.settings.host),
        port: Number(hub.settings.port),
        caPem: (hub.settings.caCertificate as string | null) ?? '',
      };
    return { ...deps.embeddedEndpoint(), caPem: '' };
  }

  async function bundle(
    instanceId: string,
    hub: StoredHub,
    tool: HubTool,
    keyPem?: string,
  ): Promise<ToolBundle> {
    const ep = endpointOf(hub);
    const cert = await deviceCerts.get(instanceId, tool.certificateId);
    const caPem = hub.type === 'mqtt' ? await deps.rootPem(instanceId) : await ep.caPem;
    const rules = rulesOf(hub);
    return {
      toolName: tool.name,
      hubName: hub.name,
      clientId: tool.clientId,
      host: ep.host,
      port: ep.port,
      caPem,
      certificatePem: toPem(cert.der) + (await issuingCas.pem(instanceId, cert.issuerId, false)),
      keyPem,
      exampleTopic: expandFilters(rules.tool.subscribe, tool.clientId)[0] ?? '#',
    };
  }

  async function present(instanceId: string, t: HubTool): Promise<Tool> {
    const cert = await deviceCerts.get(instanceId, t.certificateId);
    return {
      id: t.id,
      hubId: t.hubId,
      name: t.name,
      clientId: t.clientId,
      certificateId: t.certificateId,
      keySource: t.keySource,
      notAfter: cert.notAfter,
      createdAt: t.createdAt,
    };
  }

  const enqueueSync = (tx: Executor, instanceId: string, hubId: string) =>
    outbox.enqueue(
      tx,
      { instanceId, topic: HUB_SYNC_TOPIC, subject: `hub:${hubId}`, payload: { hubId } },
      now(),
    );

  async function load(instanceId: string, hubId: string, toolId: string) {
    const hub = await brokerHub(instanceId, hubId);
    const tool = await repo.findTool(instanceId, toolId);
    if (!tool || tool.hubId !== hubId)
      throw new NotFoundError(`tool ${toolId} not found on this hub`);
    return { hub, tool };
  }

  return {
    ensureToolsCa,
    async list(instanceId: string, hubId: string): Promise<Tool[]> {
      await brokerHub(instanceId, hubId);
      const tools = await repo.listTools(instanceId, hubId);
      return Promise.all(tools.map((t) => present(instanceId, t)));
    },
    /**
     * Adds a tool: issues its certificate and returns, this once, everything it needs
     * (with the private key when the platform made it) and the same as a zip.
     */
    async create(instanceId: string, hubId: string, input: ToolInput, ctx: AuditContext) {
      const hub = await brokerHub(instanceId, hubId);
      if (await repo.findToolByName(instanceId, hubId, input.name))
        throw new ConflictError(
          `a tool named "${input.name}" already exists on this hub`,
          'name-taken',
        );
      let csrDer: Buffer;
      let keyPem: string | undefined;
      if (input.csr) {
        const der = csrBytes(input.csr);
        if (!der)
          throw new BadRequestError(
            'csr must be a PEM or base64 PKCS#10 request',
            undefined,
            'csr-invalid',
          );
        csrDer = der;
      } else {
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
        csrDer = csrForKey(privateKey);
        keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      }
      const parsed = parseCsr(csrDer);
      if (!parsed.ok) throw new BadRequestError(parsed.reason, undefined, 'csr-invalid');
      const caId = await ensureToolsCa(instanceId, hub, ctx);
      const tool: HubTool = {
        id: randomUUID(),
        hubId,
        name: input.name,
        clientId: toolClientId(input.name),
        certificateId: '',
        certificateCn: parsed.csr.key.deviceId,
        keySource: keyPem ? 'generated' : 'csr',
        createdAt: now().toISOString(),
      };
      // Issued in its own transaction: issuance reads the issuer outside any caller's
      // transaction. If recording the tool then fails, the certificate is revoked again.
      const cert = await deviceCerts.issueDeviceCertificate({
        instanceId,
        issuingCaId: caId,
        csrDer,
        deviceId: parsed.csr.key.deviceId,
        lifetimeSeconds: input.validityDays * 24 * 3600,
        acceptedKeyTypes: ['P-256', 'P-384', 'RSA-2048', 'RSA-3072'],
        context: ctx,
      });
      tool.certificateId = cert.id;
      try {
        await db.kysely.transaction().execute(async (tx) => {
          await repo.insertTool(instanceId, tool, tx);
          await recordChange(audit, tx, {
            instanceId,
            ctx,
            action: 'hub.tool.create',
            target: { type: 'hub-tool', id: tool.id, name: tool.name },
            details: {
              hubId,
              clientId: tool.clientId,
              certificateId: cert.id,
              keySource: tool.keySource,
            },
          });
          if (hub.type === 'mosquitto') await enqueueSync(tx, instanceId, hubId);
        });
      } catch (err) {
        await deviceCerts
          .revoke(instanceId, cert.id, 'cessationOfOperation', ctx)
          .catch(() => undefined);
        if (isUniqueViolation(err))
          throw new ConflictError(
            `a tool named "${input.name}" already exists on this hub`,
            'name-taken',
          );
        throw err;
      }
      const b = await bundle(instanceId, hub, tool, keyPem);
      return {
        tool: await present(instanceId, tool),
        credentials: {
          clientId: tool.clientId,
          host: b.host,
          port: b.port,
          caCertificate: b.caPem || null,
          certificate: b.certificatePem,
          privateKey: keyPem ?? null,
        },
        zip: toolZip(b),
      };
    },
    /** The credentials zip again, without a private key (the platform never kept it). */
    async credentialsZip(instanceId: string, hubId: string, toolId: string) {
      const { hub, tool } = await load(instanceId, hubId, toolId);
      return { name: tool.name, zip: toolZip(await bundle(instanceId, hub, tool)) };
    },
    /** Removes a tool: its certificate is revoked and its connections cut. */
    async remove(
      instanceId: string,
      hubId: string,
      toolId: string,
      ctx: AuditContext,
    ): Promise<Tool> {
      const { hub, tool } = await load(instanceId, hubId, toolId);
      const shown = await present(instanceId, tool);
      await db.kysely.transaction().execute(async (tx) => {
        await deviceCerts
          .revoke(instanceId, tool.certificateId, 'cessationOfOperation', ctx, tx)
          .catch((err: unknown) => {
            if (!(err instanceof ConflictError)) throw err; // already revoked: carry on
          });
        await repo.deleteTool(instanceId, tool.id, tx);
        await recordChange(audit, tx, {
          instanceId,
          ctx,
          action: 'hub.tool.delete',
          target: { type: 'hub-tool', id: tool.id, name: tool.name },
          details: { hubId, clientId: tool.clientId, certificateId: tool.certificateId },
        });
        if (hub.type === 'mosquitto') await enqueueSync(tx, instanceId, hubId);
      });
      await deps.onRemoved(instanceId, hubId, tool.clientId);
      return shown;
    },
  };
}
export type HubToolService = ReturnType<typeof createHubToolService>;
