import { createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { strToU8, zipSync } from 'fflate';
import { bitString, explicit, integer, oid, seq } from '../pki/der-fns.js';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

/**
 * A PKCS#10 request for a P-256 key with an empty subject (the issued certificate's CN is the
 * key's ID, as for devices). Used when the platform makes a tool's key itself.
 */
export function csrForKey(privateKey: KeyObject): Buffer {
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const info = seq(integer(0), seq(), spki, explicit(0));
  const sig = sign('sha256', info, privateKey);
  return seq(info, seq(oid(ECDSA_WITH_SHA256)), bitString(sig));
}

/** A tool's MQTT client ID: `tool-<name as a slug>-<8 hex>`, safe in a topic level. */
export function toolClientId(name: string, random = randomBytes(4)): string {
  const slug =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 32) || 'tool';
  return `tool-${slug}-${random.toString('hex')}`;
}

export interface ToolBundle {
  toolName: string;
  hubName: string;
  clientId: string;
  host: string;
  port: number;
  /** PEM the tool trusts the broker's server certificate with; empty: the system store. */
  caPem: string;
  /** The tool's certificate followed by its issuing CA. */
  certificatePem: string;
  /** The private key, only in the answer that created it (never stored by the platform). */
  keyPem?: string;
  /** A topic the tool may subscribe to, for the example command. */
  exampleTopic: string;
}

/** Quotes a value for a POSIX shell. */
const sh = (v: string) => (/^[A-Za-z0-9._/:+-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

/** The README inside the zip: what each file is, a mosquitto_sub command and Node-RED settings. */
export function toolReadme(b: ToolBundle): string {
  const key = b.keyPem ? 'client.key' : '<your key file>';
  const cafile = b.caPem ? ' --cafile ca.pem' : ' --capath /etc/ssl/certs';
  return `# MQTT credentials for "${b.toolName}" (hub "${b.hubName}")

| file | what |
| --- | --- |
| ca.pem | CA certificate the broker's TLS certificate chains to${b.caPem ? '' : ' (absent: the broker uses a publicly trusted certificate)'} |
| client.crt | this tool's certificate, then its issuing CA |
| client.key | ${b.keyPem ? "this tool's private key: keep it secret; the platform kept no copy" : 'not included: you made the key and sent a CSR'} |
| client-id.txt | the MQTT client ID this tool must use: ${b.clientId} |

Broker: ${b.host}, port ${b.port}, TLS with a client certificate, MQTT 3.1.1.
The client ID must be exactly \`${b.clientId}\`; the broker refuses any other.

## mosquitto_sub

Run in the directory of these files:

\`\`\`sh
mosquitto_sub -h ${sh(b.host)} -p ${b.port}${cafile} --cert client.crt --key ${key} -i ${sh(b.clientId)} -V mqttv311 -t ${sh(b.exampleTopic)} -v
\`\`\`

## Node-RED (mqtt-broker configuration node)

- Server: \`${b.host}\`, Port: \`${b.port}\`
- Connect automatically: on; Use TLS: on
- TLS configuration: Certificate \`client.crt\`, Private Key \`${key}\`, CA Certificate ${b.caPem ? '`ca.pem`' : '(leave empty)'}, Verify server certificate: on
- Protocol: MQTT V3.1.1
- Client ID: \`${b.clientId}\`
- Keep alive: 60, Session: Use clean session

Removing the tool on the platform revokes its certificate; these files then stop working.
`;
}

/** The credentials zip (DEFLATE) of a tool. */
export function toolZip(b: ToolBundle): Buffer {
  const files: Record<string, Uint8Array> = {
    'client.crt': strToU8(b.certificatePem),
    'client-id.txt': strToU8(`${b.clientId}\n`),
    'README.md': strToU8(toolReadme(b)),
  };
  if (b.caPem) files['ca.pem'] = strToU8(b.caPem);
  if (b.keyPem) files['client.key'] = strToU8(b.keyPem);
  return Buffer.from(zipSync(files, { level: 6 }));
}
