/**
 * The plain-HTTP addresses of an instance's PKI objects. They are written into certificates
 * (CRL distribution point, OCSP and caIssuers in AIA), so they must stay stable: they use
 * the instance id and CA id, never names.
 */
export interface PkiUrls {
  crl(instanceId: string, caId: string): string;
  caCertificate(instanceId: string, caId: string): string;
  ocsp(instanceId: string): string;
}

/** URLs under a base such as `http://pki.example.com:8080` (no trailing slash needed). */
export function pkiUrls(base: () => string): PkiUrls {
  const root = () => base().replace(/\/+$/, '');
  return {
    crl: (instanceId, caId) => `${root()}/pki/${instanceId}/${caId}.crl`,
    caCertificate: (instanceId, caId) => `${root()}/pki/${instanceId}/${caId}.crt`,
    ocsp: (instanceId) => `${root()}/pki/${instanceId}/ocsp`,
  };
}
