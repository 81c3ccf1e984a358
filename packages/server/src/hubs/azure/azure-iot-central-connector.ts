import type { OutboundGuard } from '../../lib/outbound-guard.js';
import { toPem } from '../../pki/certificate-builder.js';
import type { StoredHub } from '../hub-repo.js';
import type { CloudObjectRepo } from '../cloud/cloud-object-repo.js';
import { cloudRequest } from '../cloud/cloud-http.js';
import type { CloudConnector, DeviceSyncPlan } from '../cloud/cloud-types.js';
import { guardedAgent } from '../cloud/guarded-agent.js';

/** The IoT Central REST API version (GA). */
export const IOT_CENTRAL_API_VERSION = '2022-07-31';

export interface AzureCentralSettings {
  appUrl: string;
  idScope: string | null;
  apiCaCertificate: string | null;
}

/**
 * Azure IoT Central through its REST API with an API token (role: Builder or an operator role
 * that may manage devices). Devices are created with an individual X.509 attestation (current
 * certificate primary, the previous one secondary while in overlap) and connect through
 * Azure's provisioning service with the application's ID scope; revoking blocks the device.
 */
export function createAzureIotCentralConnector(deps: {
  instanceId: string;
  hub: StoredHub;
  secrets: Record<string, string>;
  objects: CloudObjectRepo;
  guard: OutboundGuard;
  now: () => Date;
}): CloudConnector {
  const { instanceId, hub, objects, now } = deps;
  const s = hub.settings as unknown as AzureCentralSettings;
  const base = new URL(s.appUrl);
  const agent = guardedAgent(deps.guard, Number(base.port || 443), s.apiCaCertificate);
  const call = (method: 'GET' | 'PUT' | 'PATCH', path: string, what: string, body?: unknown) => {
    const u = new URL(path, base);
    u.searchParams.set('api-version', IOT_CENTRAL_API_VERSION);
    return cloudRequest(deps.guard, agent, u, {
      method,
      headers: { authorization: deps.secrets.apiToken ?? '' },
      body,
      what,
    });
  };
  const devicePath = (id: string) => `/api/devices/${encodeURIComponent(id)}`;

  return {
    async syncDevice(plan: DeviceSyncPlan) {
      const id = plan.deviceId;
      const at = now().toISOString();
      const find = (kind: 'identity' | 'attestation') => objects.find(instanceId, hub.id, kind, id);
      let device = await find('identity');
      if (plan.revoked) {
        if (!device || device.state === 'blocked') return;
        await call('PATCH', devicePath(id), `IoT Central device ${id}`, { enabled: false });
        await objects.put(instanceId, { ...device, state: 'blocked' }, at);
        return;
      }
      if (!plan.keep.length) return;
      if (!device) {
        await call('PUT', devicePath(id), `IoT Central device ${id}`, {
          displayName: id,
          enabled: true,
        });
        device = {
          hubId: hub.id,
          kind: 'identity',
          localId: id,
          deviceId: id,
          remoteId: id,
          state: 'enabled',
          updatedAt: at,
        };
        await objects.put(instanceId, device, at);
      }
      const wanted = plan.keep.slice(0, 2);
      const key = wanted.map((c) => c.id).join(' ');
      const attestation = await find('attestation');
      if (attestation?.remoteId !== key) {
        const clientCertificates: Record<string, { certificate: string }> = {
          primary: { certificate: toPem(wanted[0]!.der) },
        };
        if (wanted[1]) clientCertificates.secondary = { certificate: toPem(wanted[1].der) };
        await call('PUT', `${devicePath(id)}/attestation`, `IoT Central attestation of ${id}`, {
          type: 'x509',
          x509: { clientCertificates },
        });
        await objects.put(
          instanceId,
          {
            hubId: hub.id,
            kind: 'attestation',
            localId: id,
            deviceId: id,
            remoteId: key,
            state: 'active',
          },
          at,
        );
      }
      for (const c of plan.keep)
        await objects.put(
          instanceId,
          {
            hubId: hub.id,
            kind: 'certificate',
            localId: c.id,
            deviceId: id,
            remoteId: c.id,
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
            remoteId: c.id,
            state: 'retired',
          },
          at,
        );
    },
    // Central trusts devices by their own certificates (individual attestation); no CA to add.
    async registerCa() {},
    async check() {
      try {
        await call('GET', '/api/roles', 'IoT Central roles');
        return { ok: true, detail: 'IoT Central accepts the API token' };
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    },
  };
}
