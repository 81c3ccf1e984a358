import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { KeyStore } from '../keystore/keystore-types.js';
import { defaultScheme } from '../keystore/key-algorithms.js';
import type { CaCertificateRecord, CaRepo } from './ca-repo.js';
import {
  KeyUsageFlags,
  buildCertificate,
  randomSerial,
  subjectKeyId,
  subjectNameOf,
  toPem,
  type TbsSigner,
} from './certificate-builder.js';

const DAY = 24 * 60 * 60 * 1000;
const ROOT_LIFETIME_DAYS = 20 * 365;
const TLS_LIFETIME_DAYS = 397;
/** TLS certificates are replaced at start when they have less than this left. */
const TLS_RENEW_BEFORE_DAYS = 30;
/** Backdating absorbs clock skew between this server and its clients. */
export const BACKDATE_MS = 5 * 60 * 1000;
const ID_KP_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

export interface InstancePkiDeps {
  keystore: KeyStore;
  caRepo: CaRepo;
  now?: () => Date;
}

/** A TLS identity ready for Node's TLS stack. */
export interface TlsMaterial {
  certPem: string;
  chainPem: string;
  keyPem: string;
  rootPem: string;
}

/** Sans for the endpoint certificates: the configured names plus the loopback ones. */
export function endpointNames(
  publicHostname: string,
  extra: string,
): { dns: string[]; ip: string[] } {
  const all = new Set([
    'localhost',
    '127.0.0.1',
    '::1',
    publicHostname,
    ...extra
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ]);
  const dns: string[] = [];
  const ip: string[] = [];
  for (const n of all) (isIP(n) ? ip : dns).push(n);
  return { dns: dns.sort(), ip: ip.sort() };
}

/** A TBS signer that asks the key store to sign with the key's natural scheme. */
export function signerFor(
  keystore: KeyStore,
  instanceId: string,
  keyId: string,
  algorithm: Parameters<typeof defaultScheme>[0],
): TbsSigner {
  const scheme = defaultScheme(algorithm);
  return { scheme, sign: (tbs) => keystore.sign(instanceId, keyId, tbs, scheme) };
}

/**
 * The part of the PKI every instance has from its first start: the OEM root and the TLS
 * certificate of its endpoints. Issuing CAs build on it (pki-service).
 */
export function createInstancePki(deps: InstancePkiDeps) {
  const { keystore, caRepo } = deps;
  const now = deps.now ?? (() => new Date());

  async function createRoot(
    instanceId: string,
    instanceName: string,
  ): Promise<CaCertificateRecord> {
    const key = await keystore.generate(instanceId, {
      algorithm: 'P-256',
      label: `${instanceName} OEM root`,
      purpose: 'ca',
    });
    const t = now();
    const subject = `CN=Trustlink OEM Root CA, O=${escapeDn(instanceName)}, OU=${instanceId}`;
    const serial = randomSerial();
    const der = await buildCertificate(
      {
        serial,
        issuer: subject,
        subject,
        notBefore: new Date(t.getTime() - BACKDATE_MS),
        notAfter: new Date(t.getTime() + ROOT_LIFETIME_DAYS * DAY),
        subjectPublicKeyDer: key.publicKeyDer,
        ca: {},
        keyUsage: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
      },
      signerFor(keystore, instanceId, key.id, key.algorithm),
    );
    const rec = caRecord(instanceId, 'root', 'OEM root', key.id, null, der, now());
    await caRepo.insert(rec);
    return rec;
  }

  async function root(instanceId: string): Promise<CaCertificateRecord> {
    const r = await caRepo.current(instanceId, 'root');
    if (!r) throw new Error(`instance ${instanceId} has no root CA`);
    return r;
  }

  async function issueTls(
    instanceId: string,
    names: { dns: string[]; ip: string[] },
  ): Promise<CaCertificateRecord> {
    const issuer = await root(instanceId);
    const issuerKey = await keystore.publicKey(instanceId, issuer.keyId);
    const key = await keystore.generate(instanceId, {
      algorithm: 'P-256',
      label: 'TLS endpoints',
      purpose: 'tls',
    });
    const t = now();
    const previous = await caRepo.current(instanceId, 'tls');
    let rec: CaCertificateRecord;
    try {
      const der = await buildCertificate(
        {
          serial: randomSerial(),
          issuer: subjectNameOf(issuer.der),
          subject: `CN=${escapeDn(names.dns.find((n) => n !== 'localhost') ?? names.dns[0] ?? 'localhost')}, OU=${instanceId}`,
          notBefore: new Date(t.getTime() - BACKDATE_MS),
          notAfter: new Date(
            Math.min(t.getTime() + TLS_LIFETIME_DAYS * DAY, Date.parse(issuer.notAfter)),
          ),
          subjectPublicKeyDer: key.publicKeyDer,
          authorityKeyId: subjectKeyId(issuerKey.publicKeyDer),
          keyUsage: KeyUsageFlags.digitalSignature,
          extendedKeyUsage: [ID_KP_SERVER_AUTH],
          subjectAltNames: names,
        },
        signerFor(keystore, instanceId, issuer.keyId, issuerKey.algorithm),
      );
      rec = caRecord(instanceId, 'tls', 'TLS endpoints', key.id, issuer.id, der, now());
      await caRepo.insert(rec);
    } catch (err) {
      // A key no certificate names would stay in the key store for good: take it back out.
      await keystore.delete(instanceId, key.id).catch(() => undefined);
      throw err;
    }
    if (previous) await caRepo.retire(instanceId, previous.id, t.toISOString());
    return rec;
  }

  /**
   * The TLS certificate for the endpoints: the current one while it covers these names and has
   * more than 30 days left; a new one otherwise.
   */
  async function ensureTls(
    instanceId: string,
    names: { dns: string[]; ip: string[] },
  ): Promise<TlsMaterial> {
    let cert = await caRepo.current(instanceId, 'tls');
    if (
      !cert ||
      !covers(cert, names) ||
      Date.parse(cert.notAfter) - now().getTime() < TLS_RENEW_BEFORE_DAYS * DAY
    ) {
      cert = await issueTls(instanceId, names);
    }
    const r = await root(instanceId);
    return {
      certPem: toPem(cert.der),
      chainPem: toPem(cert.der) + toPem(r.der),
      keyPem: await keystore.tlsPrivateKeyPem(instanceId, cert.keyId),
      rootPem: toPem(r.der),
    };
  }

  return { createRoot, root, ensureTls };
}
export type InstancePki = ReturnType<typeof createInstancePki>;

/** The row for a certificate the instance holds the key of, with its facts read from the DER. */
export function caRecord(
  instanceId: string,
  kind: CaCertificateRecord['kind'],
  name: string,
  keyId: string,
  issuerId: string | null,
  der: Buffer,
  createdAt: Date,
): CaCertificateRecord {
  const x = new X509Certificate(der);
  return {
    instanceId,
    id: randomUUID(),
    kind,
    name,
    keyId,
    issuerId,
    serial: x.serialNumber.toLowerCase(),
    subject: x.subject.replace(/\n/g, ', '),
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    der,
    createdAt: createdAt.toISOString(),
    retiredAt: null,
    autoRenew: false,
    lifetimeSeconds: null,
    lineageId: null,
    renewedBy: null,
  };
}

function covers(cert: CaCertificateRecord, names: { dns: string[]; ip: string[] }): boolean {
  const x = new X509Certificate(cert.der);
  const san = x.subjectAltName ?? '';
  const have = new Set(
    san.split(', ').map((e) =>
      e
        .replace(/^DNS:/, '')
        .replace(/^IP Address:/, '')
        .toLowerCase(),
    ),
  );
  const normalizeIp = (ip: string) => (ip === '::1' ? '0:0:0:0:0:0:0:1' : ip);
  return (
    names.dns.every((n) => have.has(n.toLowerCase())) &&
    names.ip.every((n) => have.has(n.toLowerCase()) || have.has(normalizeIp(n).toLowerCase()))
  );
}

/** Escapes the RFC 4514 special characters of one attribute value. */
function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}
