import type { StoredHub } from '../hub-repo.js';

/** A device certificate as a cloud hub needs to know it. */
export interface CloudCert {
  id: string;
  der: Buffer;
  issuerId: string;
  notAfter: string;
  createdAt: string;
}

/** What a device's record on a cloud hub must look like now (see planDeviceSync). */
export interface DeviceSyncPlan {
  deviceId: string;
  /** The device is revoked: everything of it on the hub is revoked or disabled. */
  revoked: boolean;
  /** Certificates the hub must accept: the current one first, then older ones in overlap. */
  keep: CloudCert[];
  /** Older certificates the hub must stop accepting now. */
  retire: CloudCert[];
}

/** The cloud refused our credentials: a configuration problem, shown as such. */
export class CredentialsRejectedError extends Error {
  constructor(detail: string) {
    super(`credentials rejected: ${detail}`);
    this.name = 'CredentialsRejectedError';
  }
}

/** One cloud hub's API, bound to its settings and secrets. */
export interface CloudConnector {
  /** Brings the device's record on the hub in line with the plan; idempotent. */
  syncDevice(plan: DeviceSyncPlan): Promise<void>;
  /** Makes an issuing CA known to the hub where the type registers CAs; idempotent. */
  registerCa(caId: string): Promise<void>;
  /** One cheap authenticated call. */
  check(): Promise<{ ok: boolean; detail: string }>;
  /** Sets up what the hub itself needs in the cloud (AWS: the custom authorizer); idempotent. */
  setUpHub?(): Promise<void>;
}

export type CloudHubType = 'aws-iot-core' | 'azure-iot-hub' | 'azure-iot-central';
export const CLOUD_TYPES: readonly StoredHub['type'][] = [
  'aws-iot-core',
  'azure-iot-hub',
  'azure-iot-central',
];
export const isCloudHub = (h: Pick<StoredHub, 'type'>): boolean => CLOUD_TYPES.includes(h.type);

/**
 * The API endpoints a cloud hub's settings make the platform call (beside the device endpoint
 * `outboundTarget` names): checked through the outbound guard when the hub is saved.
 */
export function cloudApiTargets(
  type: StoredHub['type'],
  settings: Record<string, unknown>,
): { host: string; port: number }[] {
  if (type !== 'aws-iot-core' && type !== 'azure-iot-hub') return [];
  // AWS custom authentication also calls the Lambda API (lambdaApiEndpoint overrides it).
  return [settings.apiEndpoint, settings.lambdaApiEndpoint]
    .filter((api): api is string => typeof api === 'string')
    .map((api) => {
      const u = new URL(api);
      return { host: u.hostname, port: Number(u.port || 443) };
    });
}
