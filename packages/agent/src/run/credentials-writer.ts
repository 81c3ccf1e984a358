import { chmodSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { AgentConfig } from '../config/agent-config-schema.js';
import type { KeyReference } from '../keystore/key-store-types.js';
import { writeFileAtomic } from '../state/atomic-file.js';
import type { AgentState } from '../state/agent-state.js';
import { pemOf } from './chain-fns.js';

/** Files of the credentials directory (docs/agent.md, "Credentials directory"). */
export const CREDENTIAL_FILES = {
  certificate: 'certificate.pem',
  chain: 'chain.pem',
  caBundle: 'ca-bundle.pem',
  hubCa: 'hub-ca.pem',
  key: 'key.json',
  index: 'credentials.json',
} as const;

/** What applications read from credentials.json and the local API's /v1/credentials. */
export interface CredentialsIndex {
  version: 1;
  deviceId: string;
  /** Raised whenever the content changes (new certificate, new hub settings). */
  generation: number;
  updatedAt: string;
  instanceId: string;
  batchId: string;
  certificate: { serial: string; notAfter: string; renewAt: string };
  files: { certificate: string; chain: string; caBundle: string; key: string; hubCa?: string };
  /** Where the private key lives; never the key itself. */
  key: Record<string, string>;
  hub?: {
    type: string;
    endpoint: string;
    port: number;
    clientId: string;
    topics: { publish: string[]; subscribe: string[] };
    extra: Record<string, string>;
  };
  database?: {
    connectionId: string;
    type: string;
    url: string;
    database: string;
    dataSource?: string;
  };
}

/** The key reference applications get: enough to open the key in its store, never its bytes. */
export function applicationKeyReference(
  config: Readonly<AgentConfig>,
  reference: KeyReference,
): Record<string, string> {
  const ks = config.keyStore;
  if (ks.type === 'pkcs11') {
    const enc = (s: string) => encodeURIComponent(s);
    const uri = `pkcs11:token=${enc(ks.tokenLabel)};object=${enc(ks.keyLabel)}${ks.keyId ? `;id=${ks.keyId.replace(/(..)/g, '%$1')}` : ''};type=private`;
    return { type: 'pkcs11', ...reference, uri };
  }
  return { type: ks.type, ...reference };
}

const der = (b64: string) => Buffer.from(b64, 'base64url');

/**
 * Writes what applications need into the credentials directory (mode 0750; files 0640, for
 * the agent's group). Each file is replaced atomically, and credentials.json last: an
 * application that sees a new generation there finds every file it names already in place.
 * Returns the index, or null before enrolment.
 */
export function writeCredentials(
  config: Readonly<AgentConfig>,
  state: AgentState,
  keyReference: Record<string, string>,
): CredentialsIndex | null {
  const { enrolment, certificate } = state;
  if (!enrolment || !certificate) return null;
  const dir = config.credentialsDir!;
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  chmodSync(dir, 0o750);
  const file = (name: string) => path.join(dir, name);
  const write = (name: string, content: string) => writeFileAtomic(file(name), content, 0o640);

  const cert = der(certificate.der);
  write(CREDENTIAL_FILES.certificate, pemOf([cert]));
  write(CREDENTIAL_FILES.chain, pemOf([cert, ...certificate.chain.map(der)]));
  write(CREDENTIAL_FILES.caBundle, pemOf(enrolment.trustAnchors.map(der)));
  write(CREDENTIAL_FILES.key, JSON.stringify(keyReference, null, 2) + '\n');
  const hub = enrolment.hub;
  if (hub) write(CREDENTIAL_FILES.hubCa, pemOf(hub.caCertificates.map(der)));
  else rmSync(file(CREDENTIAL_FILES.hubCa), { force: true });

  const index: CredentialsIndex = {
    version: 1,
    deviceId: state.deviceId,
    generation: state.credentialsGeneration,
    updatedAt: state.lastRenewedAt ?? enrolment.enrolledAt,
    instanceId: enrolment.instanceId,
    batchId: enrolment.batchId,
    certificate: {
      serial: certificate.serial,
      notAfter: certificate.notAfter,
      renewAt: certificate.renewAt,
    },
    files: {
      certificate: file(CREDENTIAL_FILES.certificate),
      chain: file(CREDENTIAL_FILES.chain),
      caBundle: file(CREDENTIAL_FILES.caBundle),
      key: file(CREDENTIAL_FILES.key),
      ...(hub ? { hubCa: file(CREDENTIAL_FILES.hubCa) } : {}),
    },
    key: keyReference,
    ...(hub
      ? {
          hub: {
            type: hub.type,
            endpoint: hub.endpoint,
            port: hub.port,
            clientId: hub.clientId,
            topics: hub.topics,
            extra: hub.extra,
          },
        }
      : {}),
    ...(enrolment.database
      ? {
          database: {
            connectionId: enrolment.database.connectionId,
            type: enrolment.database.type,
            url: enrolment.database.url,
            database: enrolment.database.database,
            ...(enrolment.database.dataSource ? { dataSource: enrolment.database.dataSource } : {}),
          },
        }
      : {}),
  };
  write(CREDENTIAL_FILES.index, JSON.stringify(index, null, 2) + '\n');
  return index;
}

/** The credentials index on disk, or null. */
export function readCredentialsIndex(dir: string): CredentialsIndex | null {
  try {
    return JSON.parse(
      readFileSync(path.join(dir, CREDENTIAL_FILES.index), 'utf8'),
    ) as CredentialsIndex;
  } catch {
    return null;
  }
}
