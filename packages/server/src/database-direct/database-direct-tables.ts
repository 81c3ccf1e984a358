export interface DatabaseDirectTables {
  /** Databases devices write to with a platform-issued JWT (PRODUCT.md H7). */
  database_connections: {
    instance_id: string;
    id: string;
    name: string;
    /** postgresql or mariadb. */
    type: string;
    /** Where the database listens: `postgresql://host:port` or `mariadb://host:port`. */
    url: string;
    database_name: string;
    data_source: string | null;
    /** PEM of the CA(s) the database's TLS certificate chains to; null: the system roots. */
    ca_certificate: string | null;
    /** 1: connect over TLS (verified); 0: plain TCP, only for databases on a trusted network. */
    tls: number;
    /** `{ username, password }` as JSON, sealed under the master key (write-only). */
    secrets: Buffer;
    /** Key-store key (P-256, purpose jwt) that signs this connection's device JWTs. */
    key_id: string;
    created_at: string;
    updated_at: string;
  };
}
