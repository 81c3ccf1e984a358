import { createHash } from 'node:crypto';
import type { OutboundGuard } from '../../lib/outbound-guard.js';
import type { StoredHub } from '../hub-repo.js';
import type { CloudObjectRepo } from '../cloud/cloud-object-repo.js';
import { cloudRequest } from '../cloud/cloud-http.js';
import type { CloudCert, CloudConnector, DeviceSyncPlan } from '../cloud/cloud-types.js';
import { guardedAgent } from '../cloud/guarded-agent.js';
import { sasToken } from './azure-sas-fns.js';

/** The IoT Hub service REST API version (Devices - Create Or Update Identity). */
export const IOT_HUB_API_VERSION = '2021-04-12';
/** How long each SAS token we make is valid: one call's worth, with room for clock skew. */
const TOKEN_SECONDS = 3600;

export interface AzureHubSettings {
  hostName: string;
  sharedAccessPolicyName: string;
  authentication: 'thumbprint' | 'ca';
  apiEndpoint: string | null;
  apiCaCertificate: string | null;
}

/** The thumbprint IoT Hub compares with the certificate a device presents: SHA-256, hex. */
export function thumbprintOf(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase();
}

/**
 * Azure IoT Hub through its documented service REST API, authorised with SAS tokens made from
 * the shared access policy (it needs the "registry write" permission). The device identity
 * carries the certificate thumbprints (current as primary, the previous one as secondary while
 * in overlap) or CA authentication; revoking disables it.
 */
export function createAzureIotHubConnector(deps: {
  instanceId: string;
  hub: StoredHub;
  secrets: Record<string, string>;
  objects: CloudObjectRepo;
  guard: OutboundGuard;
  now: () => Date;
}): CloudConnector {
  const { instanceId, hub, objects, now } = deps;
  const s = hub.settings as unknown as AzureHubSettings;
  const base = new URL(s.apiEndpoint ?? `https://${s.hostName}`);
  const agent = guardedAgent(deps.guard, Number(base.port || 443), s.apiCaCertificate);
  const auth = () =>
    sasToken({
      resourceUri: s.hostName,
      key: deps.secrets.sharedAccessKey ?? '',
      policyName: s.sharedAccessPolicyName,
      expiry: Math.floor(now().getTime() / 1000) + TOKEN_SECONDS,
    });
  const url = (path: string) => {
    const u = new URL(path, base);
    u.searchParams.set('api-version', IOT_HUB_API_VERSION);
    return u;
  };

  function authenticationFor(keep: CloudCert[]) {
    if (s.authentication === 'ca')
      return {
        type: 'certificateAuthority',
        x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
      };
    return {
      type: 'selfSigned',
      x509Thumbprint: {
        primaryThumbprint: thumbprintOf(keep[0]!.der),
        secondaryThumbprint: keep[1] ? thumbprintOf(keep[1].der) : null,
      },
    };
  }

  async function putIdentity(
    deviceId: string,
    body: Record<string, unknown>,
    exists: boolean,
  ): Promise<void> {
    const call = (ifMatch: boolean) =>
      cloudRequest(deps.guard, agent, url(`/devices/${encodeURIComponent(deviceId)}`), {
        method: 'PUT',
        headers: { authorization: auth(), ...(ifMatch ? { 'if-match': '*' } : {}) },
        body: { deviceId, ...body },
        what: `IoT Hub device ${deviceId}`,
        accept: ifMatch ? [] : [409],
      });
    const r = await call(exists);
    // Created by an earlier attempt whose record we did not get to write: update it instead.
    if (r.status === 409) await call(true);
  }

  return {
    async syncDevice(plan: DeviceSyncPlan) {
      const id = plan.deviceId;
      const at = now().toISOString();
      const ident = await objects.find(instanceId, hub.id, 'identity', id);
      if (plan.revoked) {
        if (!ident || ident.state === 'disabled') return;
        await putIdentity(
          id,
          { status: 'disabled', authentication: JSON.parse(ident.remoteId) },
          true,
        );
        await objects.put(instanceId, { ...ident, state: 'disabled' }, at);
        return;
      }
      if (plan.keep.length) {
        const authentication = authenticationFor(plan.keep);
        const desired = JSON.stringify(authentication);
        if (!ident || ident.remoteId !== desired || ident.state !== 'enabled') {
          await putIdentity(id, { status: 'enabled', authentication }, ident !== undefined);
          await objects.put(
            instanceId,
            {
              hubId: hub.id,
              kind: 'identity',
              localId: id,
              deviceId: id,
              remoteId: desired,
              state: 'enabled',
            },
            at,
          );
        }
      } else if (ident && plan.retire.length && ident.state === 'enabled') {
        // Nothing left to accept (the certificate expired): the identity is disabled.
        await putIdentity(
          id,
          { status: 'disabled', authentication: JSON.parse(ident.remoteId) },
          true,
        );
        await objects.put(instanceId, { ...ident, state: 'disabled' }, at);
      }
      for (const c of plan.keep)
        await objects.put(
          instanceId,
          {
            hubId: hub.id,
            kind: 'certificate',
            localId: c.id,
            deviceId: id,
            remoteId: thumbprintOf(c.der),
            state: 'active',
          },
          at,
        );
      for (const c of plan.retire)
        await objects.put(
          instanceId,
          {
            hubId: hub.id,
            kind: 'certificate',
            localId: c.id,
            deviceId: id,
            remoteId: thumbprintOf(c.der),
            state: 'retired',
          },
          at,
        );
    },
    // CA certificates are uploaded through Azure Resource Manager, not the service API the
    // shared access policy opens: the operator uploads and verifies our issuing CA (docs).
    async registerCa() {},
    async check() {
      try {
        const r = await cloudRequest(deps.guard, agent, url('/statistics/service'), {
          method: 'GET',
          headers: { authorization: auth() },
          what: 'IoT Hub service statistics',
        });
        const n = (r.body as { connectedDeviceCount?: number } | undefined)?.connectedDeviceCount;
        return {
          ok: true,
          detail: `IoT Hub accepts the policy key${n === undefined ? '' : `; ${n} devices connected`}`,
        };
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    },
  };
}
