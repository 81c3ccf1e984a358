import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AMAZON_ROOT_CA_1,
  AZURE_ROOTS,
  DIGICERT_GLOBAL_ROOT_G2,
  MICROSOFT_RSA_ROOT_2017,
} from './cloud-roots.js';

// SHA-256 fingerprints as Amazon Trust Services, DigiCert and Microsoft publish them.
const PUBLISHED = [
  [
    AMAZON_ROOT_CA_1,
    'CN=Amazon Root CA 1',
    '8E:CD:E6:88:4F:3D:87:B1:12:5B:A3:1A:C3:FC:B1:3D:70:16:DE:7F:57:CC:90:4F:E1:CB:97:C6:AE:98:19:6E',
  ],
  [
    DIGICERT_GLOBAL_ROOT_G2,
    'CN=DigiCert Global Root G2',
    'CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F',
  ],
  [
    MICROSOFT_RSA_ROOT_2017,
    'CN=Microsoft RSA Root Certificate Authority 2017',
    'C7:41:F7:0F:4B:2A:8D:88:BF:2E:71:C1:41:22:EF:53:EF:10:EB:A0:CF:A5:E6:4C:FA:20:F4:18:85:30:73:E0',
  ],
] as const;

describe('cloud root certificates', () => {
  it.each(PUBLISHED)('ok/%#: the embedded root is the published one', (pem, cn, fingerprint) => {
    const x = new X509Certificate(pem);
    expect(x.subject).toContain(cn);
    expect(x.fingerprint256).toBe(fingerprint);
    expect(x.ca).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
  });

  it('ok/Azure hubs get both roots Microsoft documents', () => {
    expect(AZURE_ROOTS.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });
});
