import type { DeviceRepo } from '../devices/device-repo.js';
import type { DeviceCertService } from '../pki/device-cert-service.js';
import type { Policy } from '../policies/policy-types.js';
import type { HubRepo, HubTool, StoredHub } from './hub-repo.js';

/** Who a client certificate belongs to on a broker-type hub. */
export interface HubClient {
  instanceId: string;
  kind: 'device' | 'tool';
  /** The MQTT client ID this client must connect with. */
  clientId: string;
  /** The device ID (devices) or the tool's id (tools). */
  subjectId: string;
  hubId: string;
  certificateId: string;
  notAfter: string;
}

export type ClientResolution =
  { ok: true; client: HubClient; hub: StoredHub } | { ok: false; reason: string };

/** States in which a device may use its hub. */
const ACTIVE_STATES = new Set(['enrolled', 'renewed']);

export interface HubDirectoryDeps {
  hubs: HubRepo;
  devices: Pick<DeviceRepo, 'find' | 'statesOf'>;
  deviceCerts: Pick<DeviceCertService, 'findBySerial' | 'statusesOf'>;
  batchPolicy(instanceId: string, batchId: string): Promise<Policy | undefined>;
  now: () => Date;
}

/**
 * Maps certificates and devices to their hubs: the certificate decides the device (by issuer
 * and serial, never by its subject alone), the device its batch, the batch its policy, and the
 * policy its hub. Tools are found by their certificate directly.
 */
export function createHubDirectory(deps: HubDirectoryDeps) {
  const { hubs, devices, deviceCerts, batchPolicy, now } = deps;

  /** The hub a device's policy points at, or a reason there is none. */
  async function hubOfDevice(
    instanceId: string,
    deviceId: string,
  ): Promise<{ ok: true; hub: StoredHub; policy: Policy } | { ok: false; reason: string }> {
    const device = await devices.find(instanceId, deviceId);
    if (!device) return { ok: false, reason: 'unknown-device' };
    const policy = await batchPolicy(instanceId, device.batchId);
    if (!policy?.hubId) return { ok: false, reason: 'no-hub' };
    const hub = await hubs.find(instanceId, policy.hubId);
    if (!hub) return { ok: false, reason: 'no-hub' };
    return { ok: true, hub, policy };
  }

  /** Who holds the certificate `serial` of issuing CA `issuerId`, and on which hub. */
  async function resolveCertificate(
    instanceId: string,
    issuerId: string,
    serial: string,
  ): Promise<ClientResolution> {
    const cert = await deviceCerts.findBySerial(instanceId, issuerId, serial);
    if (!cert) return { ok: false, reason: 'unknown-certificate' };
    if (cert.status !== 'valid') return { ok: false, reason: 'certificate-revoked' };
    const t = now().getTime();
    if (Date.parse(cert.notAfter) <= t || Date.parse(cert.notBefore) > t)
      return { ok: false, reason: 'certificate-expired' };

    const tool = (await hubs.toolsByCertificates(instanceId, [cert.id])).get(cert.id);
    if (tool) {
      const hub = await hubs.find(instanceId, tool.hubId);
      if (!hub) return { ok: false, reason: 'no-hub' };
      return { ok: true, hub, client: toolClient(instanceId, tool, cert.notAfter) };
    }
    const device = await devices.find(instanceId, cert.deviceId);
    if (!device) return { ok: false, reason: 'unknown-device' };
    if (!ACTIVE_STATES.has(device.state)) return { ok: false, reason: `device-${device.state}` };
    const found = await hubOfDevice(instanceId, device.id);
    if (!found.ok) return found;
    return {
      ok: true,
      hub: found.hub,
      client: {
        instanceId,
        kind: 'device',
        clientId: device.id,
        subjectId: device.id,
        hubId: found.hub.id,
        certificateId: cert.id,
        notAfter: cert.notAfter,
      },
    };
  }

  /**
   * Of these live clients, the ones that must go, with the reason: certificate revoked or
   * expired, device no longer enrolled, tool removed. A few queries for any number of clients.
   */
  async function stale(instanceId: string, clients: HubClient[]): Promise<Map<HubClient, string>> {
    const out = new Map<HubClient, string>();
    if (!clients.length) return out;
    const t = now().getTime();
    const statuses = await deviceCerts.statusesOf(
      instanceId,
      clients.map((c) => c.certificateId),
    );
    const deviceIds = clients.filter((c) => c.kind === 'device').map((c) => c.subjectId);
    const states = await devices.statesOf(instanceId, deviceIds);
    const tools = await hubs.toolsByCertificates(
      instanceId,
      clients.filter((c) => c.kind === 'tool').map((c) => c.certificateId),
    );
    // A device follows its batch's policy: if the policy now names another hub, it must
    // reconnect (to be routed there). One lookup per batch, not per device.
    const hubOfBatch = new Map<string, Promise<string | null | undefined>>();
    const currentHub = (batchId: string) => {
      let h = hubOfBatch.get(batchId);
      if (!h) {
        h = batchPolicy(instanceId, batchId).then((p) => p?.hubId);
        hubOfBatch.set(batchId, h);
      }
      return h;
    };
    for (const c of clients) {
      const s = statuses.get(c.certificateId);
      if (!s || s.status !== 'valid') out.set(c, 'certificate-revoked');
      else if (Date.parse(s.notAfter) <= t) out.set(c, 'certificate-expired');
      else if (c.kind === 'device') {
        const d = states.get(c.subjectId);
        if (!d || !ACTIVE_STATES.has(d.state)) out.set(c, `device-${d?.state ?? 'unknown'}`);
        else if ((await currentHub(d.batchId)) !== c.hubId) out.set(c, 'hub-changed');
      } else if (!tools.has(c.certificateId)) out.set(c, 'tool-removed');
    }
    return out;
  }

  return { resolveCertificate, hubOfDevice, stale };
}
export type HubDirectory = ReturnType<typeof createHubDirectory>;

function toolClient(instanceId: string, tool: HubTool, notAfter: string): HubClient {
  return {
    instanceId,
    kind: 'tool',
    clientId: tool.clientId,
    subjectId: tool.id,
    hubId: tool.hubId,
    certificateId: tool.certificateId,
    notAfter,
  };
}
