import type { ColumnType } from 'kysely';

export interface PkiTables {
  ca_certificates: {
    instance_id: string;
    id: string;
    /** root, issuing or tls. */
    kind: string;
    name: string;
    key_id: string;
    issuer_id: string | null;
    serial: string;
    subject: string;
    not_before: string;
    not_after: string;
    der: Buffer;
    created_at: string;
    retired_at: string | null;
    /** Issuing CAs: 1 when a successor is made before this one expires. */
    auto_renew: number;
    /** Issuing CAs: the lifetime asked for, reused by renewals. */
    lifetime_seconds: number | null;
    /** Issuing CAs: the first generation's id, shared by all its renewals. */
    lineage_id: string | null;
    /** Issuing CAs: the successor made by renewal (this one stays valid until it expires). */
    renewed_by: string | null;
  };
  /**
   * Certificates issued per issuer, kept by triggers on `device_certificates` (migration
   * fleet_counts), split over 16 slots by the serial's first hex character.
   */
  issuer_certificate_counts: {
    instance_id: string;
    issuer_id: string;
    slot: string;
    n: number;
  };
  device_certificates: {
    instance_id: string;
    id: string;
    issuer_id: string;
    /** Lowercase hex of the serial's value, without leading zero bytes. */
    serial: string;
    device_id: string;
    not_before: string;
    not_after: string;
    /** valid or revoked; expiry is read from not_after. */
    status: string;
    revocation_reason: string | null;
    revoked_at: string | null;
    der: Buffer;
    created_at: string;
  };
  /** The current CRL of each CA, and whether it must be rebuilt. */
  crls: {
    instance_id: string;
    issuer_id: string;
    number: number;
    this_update: string;
    next_update: string;
    der: Buffer;
    /**
     * Bumped by every revocation of this issuer; the CRL is stale while it exceeds
     * built_revision (the value read before the current CRL's entries were read).
     */
    revision: ColumnType<number, number | undefined, number>;
    built_revision: number;
  };
  /** Signed OCSP responses, kept until the status changes or they near their nextUpdate. */
  ocsp_responses: {
    instance_id: string;
    issuer_id: string;
    serial: string;
    /** Hash algorithm of the request's CertID (sha1, sha256, ...), echoed in the response. */
    hash_alg: string;
    der: Buffer;
    this_update: string;
    next_update: string;
  };
}
