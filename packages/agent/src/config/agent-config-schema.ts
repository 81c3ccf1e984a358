import { hardwareAttributesSchema } from '@trustlink/protocol';
import { z } from 'zod';
import { KEY_TYPES } from '../keystore/key-store-types.js';

/**
 * The agent's configuration file (JSON), one schema with every option described. The table in
 * docs/agent.md is generated from these descriptions (config/agent-config-docs.ts) and a test
 * keeps the two in step.
 */

const PERSISTENT_HANDLE = /^0x81[0-7][0-9a-fA-F]{5}$/;
const persistentHandleMessage = 'must be a persistent handle 0x81000000 to 0x817fffff';

const keyType = z
  .enum(KEY_TYPES)
  .default('P-256')
  .describe(
    'Type of the identity key when it is created: `P-256` (default), `P-384`, `RSA-2048` or `RSA-3072`. An existing key is used whatever its type.',
  );

const tpmKeyStore = z
  .strictObject({
    type: z.literal('tpm'),
    tcti: z
      .string()
      .min(1)
      .optional()
      .describe(
        'How tpm2-tools reach the TPM: `device:/dev/tpmrm0` on a device (the kernel resource manager), `swtpm:host=127.0.0.1,port=2321` for the swtpm simulator. Unset: the `TPM2TOOLS_TCTI` variable, then `device:/dev/tpmrm0`.',
      ),
    keyType,
    keyLocation: z
      .enum(['persistent', 'blob'])
      .default('persistent')
      .describe(
        '`persistent`: the key is made persistent in the TPM at `persistentHandle`. `blob`: the TPM-wrapped key (TPM2B_PUBLIC and TPM2B_PRIVATE, only loadable by this TPM under `parent`) is kept in `stateDir`.',
      ),
    persistentHandle: z
      .string()
      .regex(PERSISTENT_HANDLE, persistentHandleMessage)
      .default('0x81010002')
      .describe('Persistent handle of the identity key when `keyLocation` is `persistent`.'),
    parent: z
      .union([
        z.enum(['owner', 'endorsement']),
        z
          .string()
          .regex(
            PERSISTENT_HANDLE,
            `must be owner, endorsement or a handle (${persistentHandleMessage})`,
          ),
      ])
      .default('owner')
      .describe(
        'Parent of the identity key: `owner` or `endorsement` (a primary ECC P-256 storage key derived from that hierarchy with a fixed template, so it is the same after every reboot), or the persistent handle of an existing storage key such as the SRK `0x81000001`.',
      ),
    ownerAuthFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'File holding the owner hierarchy password, when it has one (needed to create the primary under `owner` and to make the key persistent). Unset: empty password.',
      ),
    endorsementAuthFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'File holding the endorsement hierarchy password, when `parent` is `endorsement` and it has one.',
      ),
  })
  .describe(
    'TPM 2.0 through tpm2-tools. The key is created inside the TPM (fixedtpm, fixedparent, sensitivedataorigin) and never leaves it.',
  );

const pkcs11KeyStore = z
  .strictObject({
    type: z.literal('pkcs11'),
    module: z
      .string()
      .min(1)
      .describe(
        'Path of the PKCS#11 module (loading it runs its code: operator configuration only), e.g. `/usr/lib/softhsm/libsofthsm2.so` or `/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so`.',
      ),
    tokenLabel: z
      .string()
      .min(1)
      .max(32)
      .describe('Label of the token that holds the identity key.'),
    pinFile: z
      .string()
      .min(1)
      .optional()
      .describe('File holding the user PIN (first line). Takes precedence over `pinEnv`.'),
    pinEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .default('TRUSTLINK_AGENT_PKCS11_PIN')
      .describe(
        'Environment variable holding the user PIN when `pinFile` is unset. The PIN is never taken from the command line.',
      ),
    keyLabel: z
      .string()
      .min(1)
      .default('trustlink-identity')
      .describe('CKA_LABEL of the identity key pair in the token.'),
    keyId: z
      .string()
      .regex(/^([0-9a-fA-F]{2})+$/, 'must be hex bytes')
      .optional()
      .describe(
        'CKA_ID (hex) of the identity key pair; when set, the key is looked up by label and id.',
      ),
    keyType,
  })
  .describe(
    'Any PKCS#11 token (SoftHSM2 in tests; tpm2-pkcs11 and secure elements in the field). The key pair is generated in the token, sensitive and not extractable.',
  );

const fileKeyStore = z
  .strictObject({
    type: z.literal('file'),
    path: z
      .string()
      .min(1)
      .optional()
      .describe(
        "PKCS#8 PEM file of the key, mode 0600, owned by the agent's user. Unset: `identity-key.pem` in `stateDir`.",
      ),
    keyType,
  })
  .describe('For development only: the private key is a file. The agent warns at every start.');

const argv = z
  .array(z.string().min(1))
  .min(1)
  .refine((a) => a[0]!.startsWith('/'), { message: 'must start with an absolute program path' })
  .optional();

const hooks = z
  .strictObject({
    install: argv.describe(
      'Command (program and arguments, no shell) that installs a verified update; it finds the image in `TRUSTLINK_UPDATE_IMAGE` and the manifest in `TRUSTLINK_UPDATE_MANIFEST`. Exit 0 means installed.',
    ),
    activate: argv.describe('Command that switches to the installed image (for example a reboot).'),
    confirm: argv.describe(
      'Command run after an update has booted; exit 0 confirms the new image, which commits its security version (anti-rollback).',
    ),
    credentialsUpdated: argv.describe(
      'Command run after the agent has written a new certificate, so applications can reload it.',
    ),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(900)
      .describe('How long a hook may run before it is stopped and counted as failed.'),
  })
  .default({ timeoutSeconds: 900 })
  .describe('Commands the operating mode runs around updates and renewals.');

/** The configuration file's schema. */
export const agentConfigSchema = z
  .strictObject({
    platformUrl: z
      .url({ protocol: /^https$/, message: 'must be an https:// URL' })
      .describe('Device endpoint of the platform, e.g. `https://devices.example.com:8444`.'),
    rootCaFile: z
      .string()
      .min(1)
      .describe(
        'PEM file of the instance root certificate the agent pins: it trusts the platform only through this root.',
      ),
    keyStore: z
      .discriminatedUnion('type', [tpmKeyStore, pkcs11KeyStore, fileKeyStore], {
        error: 'must be one of tpm, pkcs11, file',
      })
      .describe('Where the identity key lives (`type`: `tpm`, `pkcs11` or `file`).'),
    stateDir: z
      .string()
      .min(1)
      .default('/var/lib/trustlink-agent')
      .describe(
        "Directory of the agent's state (identity reference, later certificates and update state); created with mode 0700.",
      ),
    checkInIntervalSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(3600)
      .describe(
        'Seconds between check-ins in operating mode, each varied by up to 10% (jitter) so a fleet does not call at once. Values below 60 are for tests.',
      ),
    retryInitialSeconds: z
      .number()
      .min(0.1)
      .max(3600)
      .default(5)
      .describe(
        'First wait after a failed call to the platform (unreachable, 5xx, 429); each further failure doubles it, with jitter, up to `retryMaxSeconds`.',
      ),
    retryMaxSeconds: z
      .number()
      .min(0.1)
      .max(86_400)
      .default(900)
      .describe('Longest wait between retries while the platform cannot be reached.'),
    runDir: z
      .string()
      .min(1)
      .default('/run/trustlink-agent')
      .describe(
        "Directory of the local API socket `agent.sock` (mode 0660) and, by default, the credentials directory; created with mode 0750 so members of the agent's group can reach them.",
      ),
    credentialsDir: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Directory where `run` writes what applications need (certificate, CA bundle, hub settings, key reference; never key bytes). Unset: `credentials` in `runDir`. Rewritten from the state directory at every start.',
      ),
    timeSource: z
      .enum(['auto', 'system', 'platform'])
      .default('auto')
      .describe(
        "Where the agent's idea of the time comes from: `system` (the clock), `platform` (signed time from the platform, for devices without a real-time clock), or `auto`: the clock, unless it is behind the persisted time floor, then signed time. The floor never moves backwards.",
      ),
    hardware: hardwareAttributesSchema
      .default({})
      .describe(
        'Hardware attributes of this device, e.g. `{ "board": "tl-gw-2", "revision": "c" }`: names of letters, digits, `.`, `_` and `-` (at most 64), string values (at most 256 characters), at most 32. An update whose manifest names a hardware attribute is installed only if this device has it with exactly that value; otherwise it is reported failed (`hardware-mismatch`).',
      ),
    hooks,
  })
  .describe('trustlink-agent configuration file');

export type AgentConfigInput = z.input<typeof agentConfigSchema>;
export type AgentConfig = z.output<typeof agentConfigSchema>;
export type KeyStoreConfig = AgentConfig['keyStore'];
export type TpmKeyStoreConfig = Extract<KeyStoreConfig, { type: 'tpm' }>;
export type Pkcs11KeyStoreConfig = Extract<KeyStoreConfig, { type: 'pkcs11' }>;
export type FileKeyStoreConfig = Extract<KeyStoreConfig, { type: 'file' }>;
