/** What the manufacturing credential API returns (packages/server/src/manufacturing). */

export type CredentialStatus = 'active' | 'expired' | 'used-up';

/** A credential as listed: never its value, only its last four characters. */
export interface ManufacturingCredential {
  id: string;
  name: string;
  batchId: string;
  hint: string;
  notAfter: string;
  maxDevices: number;
  usedDevices: number;
  status: CredentialStatus;
  createdAt: string;
  createdBy: string;
  lastUsedAt: string | null;
}

/** A new credential as its creation answers: the only time the value is sent. */
export type CreatedCredential = ManufacturingCredential & { value: string };
