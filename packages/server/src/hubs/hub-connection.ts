import { hubBlockSchema, toBase64url, type HubBlock } from '@trustlink/protocol';
import { pemToDer } from '../pki/cert-fns.js';
import { rulesOf } from '../mqtt/embedded-broker.js';
import { expandFilters } from '../mqtt/mqtt-rules-fns.js';
import type { Policy } from '../policies/policy-types.js';
import type { HubRepo, StoredHub } from './hub-repo.js';
import { wantedAuthorizer, type AuthorizerSettings } from './aws/aws-authorizer-fns.js';

/** Where devices reach Azure's Device Provisioning Service. */
export const AZURE_DPS_GLOBAL_ENDPOINT = 'global.azure-devices-provisioning.net';

/**
 * With AWS IoT custom authentication: what a device needs to use the authorizer (its name,
 * the token key name, where to get a token, and how AWS takes custom-auth MQTT: port 443 with
 * ALPN `mqtt`). Its certificate keeps working beside it.
 */
function customAuthExtra(hub: StoredHub): Record<string, string> {
  const want = wantedAuthorizer(hub.id, hub.settings as unknown as AuthorizerSettings);
  if (!want) return {};
  return {
    authorizerName: want.name,
    tokenKeyName: want.tokenKeyName,
    tokenPath: '/device/v1/hub-token',
    customAuthPort: '443',
    customAuthAlpn: 'mqtt',
  };
}

/** Every certificate of a PEM bundle as DER. */
function pemBundleToDer(pem: string | null | undefined): Buffer[] {
  if (!pem) return [];
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
    .map((b) => pemToDer(b))
    .filter((d): d is Buffer => d !== undefined);
}

/**
 * The `hub` block of the enrolment answer (PROTOCOL.md, enrol): where and how a device
 * connects for its data. The enrolment service calls `hubConnectionFor` with the device's
 * policy; no secret ever goes into the block.
 */
export function createHubConnections(deps: {
  hubs: Pick<HubRepo, 'find'>;
  /** DER of the instance root: the embedded broker's TLS certificate chains to it. */
  rootDer(instanceId: string): Promise<Buffer>;
  /** Where devices reach the embedded broker (public host name, MQTT port). */
  embeddedEndpoint(): { host: string; port: number };
}) {
  function block(
    hub: StoredHub,
    deviceId: string,
    b: Omit<HubBlock, 'type' | 'clientId' | 'topics' | 'extra'> & {
      topics?: HubBlock['topics'];
      extra?: Record<string, string>;
    },
  ): HubBlock {
    return hubBlockSchema.parse({
      type: hub.type,
      clientId: deviceId,
      topics: b.topics ?? { publish: [], subscribe: [] },
      extra: b.extra ?? {},
      endpoint: b.endpoint,
      port: b.port,
      caCertificates: b.caCertificates,
    });
  }

  const deviceTopics = (hub: StoredHub, deviceId: string) => {
    const r = rulesOf(hub).device;
    return {
      publish: expandFilters(r.publish, deviceId),
      subscribe: expandFilters(r.subscribe, deviceId),
    };
  };

  /**
   * The hub block for a device of this policy, or undefined when the policy names no hub
   * (database direct) or its hub is gone.
   */
  async function hubConnectionFor(
    instanceId: string,
    policy: Pick<Policy, 'hubId'>,
    device: { deviceId: string },
  ): Promise<HubBlock | undefined> {
    if (!policy.hubId) return undefined;
    const hub = await deps.hubs.find(instanceId, policy.hubId);
    if (!hub) return undefined;
    const s = hub.settings;
    const id = device.deviceId;
    switch (hub.type) {
      case 'mqtt': {
        const ep = deps.embeddedEndpoint();
        return block(hub, id, {
          endpoint: ep.host,
          port: ep.port,
          topics: deviceTopics(hub, id),
          caCertificates: [toBase64url(await deps.rootDer(instanceId))],
        });
      }
      case 'mosquitto':
        return block(hub, id, {
          endpoint: String(s.host),
          port: Number(s.port),
          topics: deviceTopics(hub, id),
          caCertificates: pemBundleToDer(s.caCertificate as string | null).map(toBase64url),
        });
      case 'aws-iot-core':
        return block(hub, id, {
          endpoint: String(s.endpoint),
          port: Number(s.port),
          caCertificates: pemBundleToDer(s.rootCertificate as string | null).map(toBase64url),
          // The thing is named after the device, and AWS IoT wants the client ID to match.
          extra: { region: String(s.region), thingName: id, ...customAuthExtra(hub) },
        });
      case 'azure-iot-hub':
        return block(hub, id, {
          endpoint: String(s.hostName),
          port: 8883,
          caCertificates: pemBundleToDer(s.rootCertificate as string | null).map(toBase64url),
        });
      case 'azure-iot-central':
        // Central devices connect through Azure's provisioning service with the app's ID
        // scope; it assigns them the app's (hidden) IoT hub.
        return block(hub, id, {
          endpoint: AZURE_DPS_GLOBAL_ENDPOINT,
          port: 8883,
          caCertificates: pemBundleToDer(s.rootCertificate as string | null).map(toBase64url),
          extra: {
            appUrl: String(s.appUrl),
            ...(s.idScope ? { idScope: String(s.idScope) } : {}),
            registrationId: id,
          },
        });
    }
  }

  return { hubConnectionFor };
}
export type HubConnections = ReturnType<typeof createHubConnections>;
