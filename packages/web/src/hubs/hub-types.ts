/** IoT hubs as the API shows them (packages/server/src/hubs/hub-types.ts, hub-routes.ts). */

/** Every hub type the server knows; the console has a form for those in HUB_FORMS. */
export const HUB_TYPE_LABELS: Record<string, string> = {
  mqtt: 'MQTT (embedded broker)',
  mosquitto: 'Mosquitto (managed)',
  'aws-iot-core': 'AWS IoT Core',
  'azure-iot-hub': 'Azure IoT Hub',
  'azure-iot-central': 'Azure IoT Central',
};

/** What the API shows in place of a secret that is set; sent back it means "keep it". */
export const OBSCURED = '********';

export interface Hub {
  id: string;
  name: string;
  type: string;
  /** The type's settings, secret values left out. */
  settings: Record<string, unknown>;
  /** Which write-only secrets have a value. */
  secrets: Record<string, { set: boolean }>;
  createdAt: string;
  updatedAt: string;
}

export interface HubInput {
  name: string;
  type: string;
  settings: Record<string, unknown>;
}

export interface HubCheck {
  id: string;
  name: string;
  type: string;
  ok: boolean;
  detail: string;
  checkedAt: string;
}

export interface HubStatus {
  reachable: number;
  total: number;
  hubs: HubCheck[];
}

export interface AccessRules {
  device: { publish: string[]; subscribe: string[] };
  tool: { publish: string[]; subscribe: string[] };
}

export interface Tool {
  id: string;
  hubId: string;
  name: string;
  clientId: string;
  certificateId: string;
  keySource: 'generated' | 'csr';
  notAfter: string;
  createdAt: string;
}

export interface CreatedTool {
  tool: Tool;
  credentials: {
    clientId: string;
    host: string;
    port: number;
    caCertificate: string | null;
    certificate: string;
    /** Only when the platform made the key: in this answer once, never stored. */
    privateKey: string | null;
  };
  /** The credentials zip, base64. */
  zip: string;
}
