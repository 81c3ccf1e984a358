import type { DeviceState } from '../devices/batch-types';

/** RFC 5280 reasons a device may be revoked with (packages/server/src/pki/crl-fns.ts). */
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export const REVOCATION_REASON_LABELS: Record<RevocationReason, string> = {
  unspecified: 'Unspecified',
  keyCompromise: 'Key compromise',
  affiliationChanged: 'Affiliation changed',
  superseded: 'Superseded',
  cessationOfOperation: 'Cessation of operation (taken out of service)',
  privilegeWithdrawn: 'Privilege withdrawn',
};

export interface DeviceCertificate {
  id: string;
  serial: string;
  issuerId: string;
  notBefore: string;
  notAfter: string;
  status: 'valid' | 'expired' | 'revoked';
  revocationReason: string | null;
  revokedAt: string | null;
  current: boolean;
}

export interface HubSyncEntry {
  id: string;
  topic: string;
  status: 'pending' | 'done' | 'failed';
  attempts: number;
  lastError: string | null;
  createdAt: string;
  doneAt: string | null;
}

/** GET /devices/:id (packages/server/src/devices/device-routes.ts). */
export interface DeviceDetail {
  id: string;
  batchId: string;
  batchName: string;
  policyId: string;
  policyName: string;
  state: DeviceState;
  registeredAt: string;
  enrolledAt: string | null;
  renewedAt: string | null;
  revokedAt: string | null;
  expiredAt: string | null;
  lastSeenAt: string | null;
  currentSerial: string | null;
  certNotAfter: string | null;
  renewAt: string | null;
  enrolMethod: string | null;
  keyType: string | null;
  firmwareDigest: string | null;
  revocationReason: string | null;
  certificates: DeviceCertificate[];
  hubSync: HubSyncEntry[];
}
