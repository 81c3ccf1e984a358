export interface PolicyTables {
  policies: {
    instance_id: string;
    id: string;
    name: string;
    /** iot-hub or database-direct. */
    connection_type: string;
    hub_id: string | null;
    database_connection_id: string | null;
    device_lifetime_value: number;
    device_lifetime_unit: string;
    /** JSON array of accepted device key types. */
    device_key_types: string;
    operational_key_allowed: number;
    device_auto_renew: number;
    renew_grace_value: number;
    renew_grace_unit: string;
    issuing_lifetime_value: number;
    issuing_lifetime_unit: string;
    issuing_key_type: string;
    issuing_auto_renew: number;
    jwt_lifetime_value: number | null;
    jwt_lifetime_unit: string | null;
    /** The issuing CA made for this policy (PKI). */
    issuing_ca_id: string | null;
    created_at: string;
    updated_at: string;
  };
}
