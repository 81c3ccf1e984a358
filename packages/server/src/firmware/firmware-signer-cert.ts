import type { KeyRecord, KeyStore } from '../keystore/keystore-types.js';
import {
  KeyUsageFlags,
  buildCertificate,
  randomSerial,
  subjectKeyId,
  subjectNameOf,
} from '../pki/certificate-builder.js';
import { BACKDATE_MS, signerFor, type InstancePki } from '../pki/instance-pki.js';
import type { FirmwareRepo } from './firmware-repo.js';

const DAY = 24 * 3600 * 1000;
const LIFETIME_DAYS = 10 * 365;
/** A certificate this close to its end is replaced before it signs anything more. */
const RENEW_BEFORE_DAYS = 90;
const ID_KP_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const ID_KP_EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';

const escapeDn = (v: string) => v.replace(/([,+"\\<>;=])/g, '\\$1');

/**
 * The X.509 certificate a CMS signature carries for a signing key: issued by the instance's
 * OEM root (the anchor devices pin), so `openssl cms -verify -CAfile root.pem` accepts it.
 * Its extended key usage names code signing, for verifiers that check it (RAUC's
 * `check-purpose=codesign`), and e-mail protection, because OpenSSL's default purpose for
 * `cms -verify` is S/MIME signing and refuses a certificate limited to code signing.
 */
export function createSignerCertificates(deps: {
  repo: FirmwareRepo;
  keystore: KeyStore;
  instancePki: Pick<InstancePki, 'root'>;
  now: () => Date;
}) {
  const { repo, keystore, instancePki, now } = deps;

  return {
    /** The DER certificate for the key, issued (and stored) when there is no usable one. */
    async certificateFor(instanceId: string, key: KeyRecord): Promise<Buffer> {
      const t = now();
      const have = await repo.signerCertificate(instanceId, key.id);
      if (have && Date.parse(have.notAfter) - t.getTime() > RENEW_BEFORE_DAYS * DAY)
        return have.der;
      const root = await instancePki.root(instanceId);
      const rootKey = await keystore.publicKey(instanceId, root.keyId);
      const notAfter = new Date(
        Math.min(t.getTime() + LIFETIME_DAYS * DAY, Date.parse(root.notAfter)),
      );
      const der = await buildCertificate(
        {
          serial: randomSerial(),
          issuer: subjectNameOf(root.der),
          subject: `CN=${escapeDn(key.label)} firmware signing, OU=${instanceId}`,
          notBefore: new Date(t.getTime() - BACKDATE_MS),
          notAfter,
          subjectPublicKeyDer: key.publicKeyDer,
          authorityKeyId: subjectKeyId(rootKey.publicKeyDer),
          keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation,
          extendedKeyUsage: [ID_KP_CODE_SIGNING, ID_KP_EMAIL_PROTECTION],
        },
        signerFor(keystore, instanceId, root.keyId, rootKey.algorithm),
      );
      await repo.saveSignerCertificate(
        instanceId,
        key.id,
        { der, notAfter: notAfter.toISOString() },
        t.toISOString(),
      );
      return der;
    },
  };
}
export type SignerCertificates = ReturnType<typeof createSignerCertificates>;
