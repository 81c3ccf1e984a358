export interface HubTables {
  hubs: {
    instance_id: string;
    id: string;
    name: string;
    /** mqtt, mosquitto, aws-iot-core, azure-iot-hub or azure-iot-central. */
    type: string;
    /** JSON: the type's settings without the secret fields. */
    settings: string;
    /** The secret fields as JSON, sealed under the master key (always present, maybe `{}`). */
    secrets: Buffer;
    /** Issuing CA of the hub's tool certificates, made on first use. */
    tools_ca_id: string | null;
    /** Key-store key (purpose tls) the platform connects to a managed broker with. */
    platform_key_id: string | null;
    /** The certificate of that key (device_certificates). */
    platform_certificate_id: string | null;
    created_at: string;
    updated_at: string;
  };
  /** Third-party tools (Node-RED, MQTT Explorer) with credentials for a broker-type hub. */
  hub_tools: {
    instance_id: string;
    id: string;
    hub_id: string;
    name: string;
    /** The MQTT client ID the tool must use. */
    client_id: string;
    /** Its certificate (device_certificates); revoked when the tool is removed. */
    certificate_id: string;
    /** The certificate's subject CN (the username a Mosquitto broker sees). */
    certificate_cn: string;
    /** generated (the key was made and handed over once) or csr (the user kept the key). */
    key_source: string;
    created_at: string;
  };
  /**
   * What the platform has put on a cloud hub (AWS IoT Core, Azure IoT Hub / Central), one row
   * per object, so a retried or repeated sync makes only the calls still needed.
   */
  hub_cloud_objects: {
    instance_id: string;
    hub_id: string;
    /** thing, policy, certificate, ca, identity (Azure device) or attestation. */
    kind: string;
    /** Our id of the object: device ID, certificate id or CA id. */
    local_id: string;
    /** The device it belongs to (null for CAs). */
    device_id: string | null;
    /** The cloud's id of it (certificate ARN, CA certificate id, thumbprint ...). */
    remote_id: string;
    /** active, retired, revoked, disabled. */
    state: string;
    updated_at: string;
  };
}
