/**
 * What the PKI, auth-cert and token APIs return (packages/server/src/pki/pki-schemas.ts,
 * auth-certs/auth-cert-routes.ts, enrolment-tokens/enrolment-token-routes.ts).
 */

export type CaKind = 'root' | 'issuing' | 'tls';
export type CaStatus = 'valid' | 'expired' | 'not used';

/** A root, issuing or TLS certificate of the instance. */
export interface CaCertificate {
  id: string;
  kind: CaKind;
  name: string;
  subject: string;
  serial: string;
  keyType: string;
  notBefore: string;
  notAfter: string;
  status: CaStatus;
  issuerId: string | null;
  issuedCount: number;
  autoRenew: boolean;
  lifetimeSeconds: number | null;
  renewedBy: string | null;
  renewAt: string | null;
  retiredAt: string | null;
  crlUrl: string | null;
}

export const SIGNING_KEY_TYPES = ['P-256', 'RSA-3072'] as const;
export type SigningKeyType = (typeof SIGNING_KEY_TYPES)[number];

/** A signing key; imported (development) keys are named `nohsm:<name>`. */
export interface SigningKey {
  id: string;
  name: string;
  algorithm: SigningKeyType;
  type: 'ecdsa' | 'rsa';
  size: number;
  backend: 'software' | 'pkcs11';
  imported: boolean;
  createdAt: string;
}

export const AUTH_CERT_RULES = ['must-pre-register', 'requires-token'] as const;
export type AuthCertRule = (typeof AUTH_CERT_RULES)[number];

/** A factory CA imported to enrol devices with pre-provisioned certificates. */
export interface AuthCert {
  id: string;
  name: string;
  batchId: string;
  rule: AuthCertRule;
  subject: string;
  fingerprint: string;
  notBefore: string;
  notAfter: string;
  status: 'valid' | 'expired';
  createdAt: string;
}

/** An enrolment token as listed: never its value. */
export interface EnrolmentToken {
  id: string;
  name: string;
  batchId: string;
  notBefore: string;
  notAfter: string;
  createdAt: string;
}
