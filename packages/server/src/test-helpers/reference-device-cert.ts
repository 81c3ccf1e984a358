import 'reflect-metadata';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AccessDescription,
  AuthorityInfoAccessSyntax,
  CRLDistributionPoints,
  DistributionPoint,
  DistributionPointName,
  Extension,
  GeneralName,
  Name,
} from '@peculiar/asn1-x509';
import { buildCertificate, KeyUsageFlags } from '../pki/certificate-builder.js';
import {
  OID_CA_ISSUERS,
  OID_CLIENT_AUTH,
  OID_EXT,
  OID_OCSP,
  type DeviceCertFields,
  type IssuerProfile,
} from '../pki/device-cert-template.js';

function ext(id: string, value: unknown) {
  return new Extension({
    extnID: id,
    critical: false,
    extnValue: new OctetString(AsnConvert.serialize(value)),
  });
}
const uri = (u: string) => new GeneralName({ uniformResourceIdentifier: u });

/**
 * The slow reference: the same device certificate built with the general ASN.1 builder
 * (certificate-builder.ts). Returns the TBSCertificate DER it signs; the fast path must
 * produce the same bytes.
 */
export async function referenceDeviceTbs(
  profile: IssuerProfile,
  f: DeviceCertFields,
): Promise<Buffer> {
  let tbs: Buffer | undefined;
  await buildCertificate(
    {
      serial: f.serial,
      issuer: AsnConvert.parse(profile.issuerNameDer, Name),
      subject: `CN=${f.deviceId}`,
      notBefore: f.notBefore,
      notAfter: f.notAfter,
      subjectPublicKeyDer: f.spkiDer,
      authorityKeyId: profile.authorityKeyId,
      keyUsage: KeyUsageFlags.digitalSignature,
      extendedKeyUsage: [OID_CLIENT_AUTH],
      extraExtensions: [
        ext(
          OID_EXT.cRLDistributionPoints,
          new CRLDistributionPoints([
            new DistributionPoint({
              distributionPoint: new DistributionPointName({ fullName: [uri(profile.crlUrl)] }),
            }),
          ]),
        ),
        ext(
          OID_EXT.authorityInfoAccess,
          new AuthorityInfoAccessSyntax([
            new AccessDescription({ accessMethod: OID_OCSP, accessLocation: uri(profile.ocspUrl) }),
            new AccessDescription({
              accessMethod: OID_CA_ISSUERS,
              accessLocation: uri(profile.caIssuersUrl),
            }),
          ]),
        ),
      ],
    },
    {
      scheme: profile.scheme,
      sign: async (t) => {
        tbs = t;
        return Buffer.alloc(64, 1);
      },
    },
  );
  return tbs!;
}
