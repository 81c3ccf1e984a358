import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseAllowList } from './lib/outbound-fns.js';

/**
 * Every option of `trustlink serve`, in one place. Each has a TRUSTLINK_* variable, a key for
 * the optional JSON config file, a default and a description; docs/configuration.md is
 * generated from this list, and CI checks it is current.
 */
export const CONFIG_OPTIONS = {
  dataDir: {
    env: 'TRUSTLINK_DATA_DIR',
    schema: z.string().min(1),
    default: './data',
    description:
      'Directory that holds the state of this server: the SQLite database (unless a PostgreSQL URL is set) and the firmware images (`firmware/`, one file per image named by its SHA-256). Created on first start.',
  },
  databaseUrl: {
    env: 'TRUSTLINK_DATABASE_URL',
    alsoEnv: 'DATABASE_URL',
    schema: z
      .string()
      .min(1)
      .refine((v) => /^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(v), {
        message: 'must start with sqlite:, postgres:// or postgresql://',
      })
      .optional(),
    default: undefined,
    description:
      'Database to keep state in: `postgres://user:pass@host:5432/db` for PostgreSQL, or `sqlite:<path>` for a SQLite file. Unset: `sqlite:<dataDir>/trustlink.db`. `DATABASE_URL` is read when this is unset.',
  },
  databasePreparedStatements: {
    env: 'TRUSTLINK_DATABASE_PREPARED_STATEMENTS',
    schema: z.enum(['on', 'off']),
    default: 'on',
    description:
      'PostgreSQL only: `on` runs the frequent queries (check-ins, device authentication) as named prepared statements, parsed and planned once per connection instead of on every call. `off` sends every statement unnamed: needed behind a pooler in transaction mode that does not track prepared statements (PgBouncer before 1.21, or with `max_prepared_statements = 0`). See docs/postgresql.md.',
  },
  masterKeyFile: {
    env: 'TRUSTLINK_MASTER_KEY_FILE',
    schema: z.string().min(1),
    default: './secrets/master.key',
    description:
      'File holding the master key that encrypts private keys and secrets at rest. Created with mode 0600 on first start. Keep it apart from the data directory (and its backups): the data alone then reveals nothing.',
  },
  masterKey: {
    env: 'TRUSTLINK_MASTER_KEY',
    schema: z
      .string()
      .refine((v) => Buffer.from(v, 'base64').length === 32, {
        message: 'must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)',
      })
      .optional(),
    default: undefined,
    secret: true,
    description:
      'The master key itself, base64 of 32 random bytes, for deployments that inject secrets through the environment. When set, the master key file is not read or written.',
  },
  bindAddress: {
    env: 'TRUSTLINK_BIND_ADDRESS',
    schema: z.string().min(1),
    default: '0.0.0.0',
    description: 'Address the management and device ports listen on.',
  },
  managementPort: {
    env: 'TRUSTLINK_MANAGEMENT_PORT',
    schema: z.coerce.number().int().min(0).max(65535),
    default: 8443,
    description:
      'TLS port of the management API (`/api/v1`), its OpenAPI document and the console.',
  },
  devicePort: {
    env: 'TRUSTLINK_DEVICE_PORT',
    schema: z.coerce.number().int().min(0).max(65535),
    default: 8444,
    description:
      'TLS port of the device API (`/device/v1`) and EST. Requests a client certificate; each route decides what it accepts.',
  },
  publicHostname: {
    env: 'TRUSTLINK_PUBLIC_HOSTNAME',
    schema: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9.-]+$/, 'must be a DNS name or an IPv4 address'),
    default: 'localhost',
    description:
      'Name devices and users reach this server by. Used in printed URLs and in the TLS certificates of the endpoints.',
  },
  consoleUrl: {
    env: 'TRUSTLINK_CONSOLE_URL',
    schema: z
      .string()
      .regex(
        /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/,
        'must be an https:// address with a host name and an optional port, no path',
      )
      .optional(),
    default: undefined,
    description:
      'Address users open the console by, when it is not `https://<publicHostname>:<managementPort>` (e.g. `https://trustlink.example.com` behind a load balancer on 443). Used in the links the server and `trustlink setup link` print.',
  },
  tlsSubjectAltNames: {
    env: 'TRUSTLINK_TLS_SANS',
    schema: z
      .string()
      .regex(
        /^[A-Za-z0-9.:,\s-]*$/,
        'must be a comma-separated list of DNS names and IP addresses',
      ),
    default: '',
    description:
      'Extra DNS names and IP addresses, comma-separated, for the endpoint TLS certificates. `localhost`, `127.0.0.1` and `::1` are always included.',
  },
  managementTlsCertFile: {
    env: 'TRUSTLINK_MANAGEMENT_TLS_CERT_FILE',
    schema: z.string().min(1).optional(),
    default: undefined,
    description:
      'PEM certificate chain for the management port, if you bring your own (e.g. from a public CA). Unset: the instance PKI issues one. Needs `managementTlsKeyFile`.',
  },
  managementTlsKeyFile: {
    env: 'TRUSTLINK_MANAGEMENT_TLS_KEY_FILE',
    schema: z.string().min(1).optional(),
    default: undefined,
    description: 'PEM private key matching `managementTlsCertFile`.',
  },
  setupLinkTtlMinutes: {
    env: 'TRUSTLINK_SETUP_LINK_TTL_MINUTES',
    schema: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60),
    default: 60,
    description:
      'How long the one-time setup link printed at start stays valid while the instance has no administrator.',
  },
  sessionIdleMinutes: {
    env: 'TRUSTLINK_SESSION_IDLE_MINUTES',
    schema: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 60),
    default: 30,
    description:
      'A console session ends after this many minutes without a request; the user signs in again.',
  },
  sessionMaxHours: {
    env: 'TRUSTLINK_SESSION_MAX_HOURS',
    schema: z.coerce
      .number()
      .int()
      .min(1)
      .max(30 * 24),
    default: 12,
    description: 'A console session ends this many hours after sign-in, however active it is.',
  },
  apiTokenMaxDays: {
    env: 'TRUSTLINK_API_TOKEN_MAX_DAYS',
    schema: z.coerce
      .number()
      .int()
      .min(1)
      .max(10 * 365),
    default: 365,
    description: 'Longest lifetime an API token may be created with.',
  },
  signInAccountFailures: {
    env: 'TRUSTLINK_SIGN_IN_ACCOUNT_FAILURES',
    schema: z.coerce.number().int().min(1).max(1000),
    default: 5,
    description:
      'Failed sign-ins (password or second factor) allowed per account before each further attempt must wait; the wait starts at 1 s and doubles with each failure.',
  },
  signInAddressFailures: {
    env: 'TRUSTLINK_SIGN_IN_ADDRESS_FAILURES',
    schema: z.coerce.number().int().min(1).max(100000),
    default: 20,
    description:
      'Failed sign-ins allowed per source address (whatever the account) before further attempts from it must wait, as above.',
  },
  signInMaxDelaySeconds: {
    env: 'TRUSTLINK_SIGN_IN_MAX_DELAY_SECONDS',
    schema: z.coerce.number().int().min(1).max(86400),
    default: 900,
    description:
      "Longest wait imposed after repeated sign-in failures. Counters start again after an hour without failures (or twice this wait, if longer), and an account's after a successful sign-in.",
  },
  auditCheckpointSeconds: {
    env: 'TRUSTLINK_AUDIT_CHECKPOINT_SECONDS',
    schema: z.coerce.number().int().min(0).max(3600),
    default: 10,
    description:
      'Seconds after an audit entry before the key store signs a checkpoint over the log (see docs/audit-log.md); 0 signs only when the server stops.',
  },
  pkiHttpPort: {
    env: 'TRUSTLINK_PKI_HTTP_PORT',
    schema: z.coerce.number().int().min(0).max(65535),
    default: 8080,
    description:
      'Plain-HTTP port of the CRLs, OCSP responder and CA certificates (`/pki/...`). Plain HTTP on purpose: these are signed objects, and relying parties must fetch them without TLS (RFC 5280, RFC 6960).',
  },
  pkiBaseUrl: {
    env: 'TRUSTLINK_PKI_BASE_URL',
    schema: z
      .string()
      .regex(/^http:\/\/[A-Za-z0-9.:[\]-]+(:\d+)?(\/[A-Za-z0-9._~/-]*)?$/, 'must be an http:// URL')
      .optional(),
    default: undefined,
    description:
      'Base URL written into issued certificates for the CRL distribution point, OCSP and CA issuers (e.g. `http://pki.example.com`, when a proxy serves the PKI port). Unset: `http://<publicHostname>:<pkiHttpPort>`. Certificates keep the URL they were issued with, so choose it before issuing.',
  },
  mqttPort: {
    env: 'TRUSTLINK_MQTT_PORT',
    schema: z.coerce.number().int().min(0).max(65535),
    default: 8883,
    description:
      "TLS port of the embedded MQTT broker that serves every hub of type `mqtt`. A client certificate from this instance's PKI is required; it decides the device (or tool), and so its hub.",
  },
  mqttReconcileSeconds: {
    env: 'TRUSTLINK_MQTT_RECONCILE_SECONDS',
    schema: z.coerce.number().int().min(1).max(3600),
    default: 30,
    description:
      'How often the brokers re-check every live connection against the database (certificate status and expiry, device state, removed tools) and managed Mosquitto files are brought up to date, in case an event was lost.',
  },
  outboundAllowList: {
    env: 'TRUSTLINK_OUTBOUND_ALLOW_LIST',
    schema: z
      .string()
      .regex(
        /^[0-9A-Fa-f.:/,\s]*$/,
        'must be a comma-separated list of IP addresses and CIDR ranges',
      ),
    default: '',
    description:
      'Addresses that hub settings and database direct connections may reach although they are loopback, link-local or private (e.g. `10.0.0.0/8,127.0.0.1`). By default the platform refuses to connect to such addresses when users set them (a Mosquitto host, a cloud endpoint, a database URL), and it never connects to its own database.',
  },
  mosquittoManagedRoot: {
    env: 'TRUSTLINK_MOSQUITTO_MANAGED_ROOT',
    schema: z.string().min(1).optional(),
    default: undefined,
    description:
      "Directory under which the platform keeps the files of managed Mosquitto brokers (CA bundle, CRLs, ACL), one sub-directory per hub, and reads each broker's `mosquitto.pid` to make it reload. Unset: no hub of type `mosquitto` can be managed. Set by the operator only, since it lets the platform write files and signal processes.",
  },
  keystore: {
    env: 'TRUSTLINK_KEYSTORE',
    schema: z.enum(['software', 'pkcs11']),
    default: 'software',
    description:
      'Where new CA and signing keys are made: `software` (sealed under the master key) or `pkcs11` (in a PKCS#11 token: set the three `pkcs11*` options). Keys already made stay where they are. TLS endpoint keys are always software keys.',
  },
  pkcs11Module: {
    env: 'TRUSTLINK_PKCS11_MODULE',
    schema: z.string().min(1).optional(),
    default: undefined,
    description:
      'Path of the PKCS#11 library of the HSM (e.g. `/usr/lib/softhsm/libsofthsm2.so`). Loading it runs its code, so it is set by the operator here and nowhere else.',
  },
  pkcs11TokenLabel: {
    env: 'TRUSTLINK_PKCS11_TOKEN_LABEL',
    schema: z.string().min(1).max(32).optional(),
    default: undefined,
    description: 'Label of the token in the PKCS#11 module that holds the keys.',
  },
  pkcs11Pin: {
    env: 'TRUSTLINK_PKCS11_PIN',
    schema: z.string().min(1).optional(),
    default: undefined,
    secret: true,
    description: 'User PIN of the PKCS#11 token.',
  },
  firmwareMaxBytes: {
    env: 'TRUSTLINK_FIRMWARE_MAX_BYTES',
    schema: z.coerce
      .number()
      .int()
      .min(1024)
      .max(2 ** 40),
    default: 256 * 1024 * 1024,
    description:
      'Largest firmware upload in bytes (the body as sent: the image, or its Intel HEX text). Uploads stream to disk, so this bounds disk use, not memory; a larger upload gets 413 and nothing is stored.',
  },
  firmwareCacheBytes: {
    env: 'TRUSTLINK_FIRMWARE_CACHE_BYTES',
    schema: z.coerce
      .number()
      .int()
      .min(0)
      .max(2 ** 40),
    default: 128 * 1024 * 1024,
    description:
      'Memory for the firmware images devices are downloading, in bytes: an image is loaded once when its first download starts (and checked against its SHA-256), and later downloads are sent from memory instead of reading the file or database each time. Least recently used images make room, one larger than this is never held, and one not downloaded for ten minutes is let go. 0 reads every download from the store.',
  },
  firmwareManifestDays: {
    env: 'TRUSTLINK_FIRMWARE_MANIFEST_DAYS',
    schema: z.coerce.number().int().min(1).max(365),
    default: 30,
    description:
      'Lifetime of a signed update manifest. Devices refuse an expired manifest (anti-freeze); while an update is current, the server signs a new one once half of this has passed.',
  },
  deviceAddressRatePerMinute: {
    env: 'TRUSTLINK_DEVICE_ADDRESS_RATE_PER_MINUTE',
    schema: z.coerce.number().int().min(0).max(10_000_000),
    default: 18_000,
    description:
      "Requests a minute one source address may make to the device port's routes that need no device authentication (`challenge`, `time`, `enrol`, `session`, EST `cacerts`, `csrattrs`, `simpleenroll`); over it the answer is 429 with Retry-After. IPv6 addresses count by their /64. Devices behind one NAT share an address: the default (300 a second) carries 100,000 devices behind one address renewing bearer sessions every 15 minutes, and a production line enrolling hundreds a second. Lower it where devices have their own addresses; 0 turns the limit off.",
  },
  deviceAddressBurst: {
    env: 'TRUSTLINK_DEVICE_ADDRESS_BURST',
    schema: z.coerce.number().int().min(0).max(10_000_000),
    default: 3_000,
    description:
      'Requests one source address may make at once, above the rate of `deviceAddressRatePerMinute`, before it must wait (the size of its token bucket). 0 turns the limit off.',
  },
  deviceRatePerMinute: {
    env: 'TRUSTLINK_DEVICE_RATE_PER_MINUTE',
    schema: z.coerce.number().int().min(0).max(1_000_000),
    default: 60,
    description:
      'Requests a minute one authenticated device may make (`status`, `certificate`, `renew`, EST `simplereenroll`); over it the answer is 429 with Retry-After. A device checking in every 20 seconds makes 3. 0 turns the limit off.',
  },
  deviceBurst: {
    env: 'TRUSTLINK_DEVICE_BURST',
    schema: z.coerce.number().int().min(0).max(1_000_000),
    default: 30,
    description:
      'Requests one device may make at once, above the rate of `deviceRatePerMinute`, before it must wait. 0 turns the limit off.',
  },
  logLevel: {
    env: 'TRUSTLINK_LOG_LEVEL',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    description: 'Minimum level of the JSON log lines written to standard output.',
  },
  redisUrl: {
    env: 'TRUSTLINK_REDIS_URL',
    schema: z
      .string()
      .refine((v) => /^rediss?:\/\//.test(v), {
        message: 'must start with redis:// or rediss://',
      })
      .optional(),
    default: undefined,
    description:
      "Redis that replicas (several `trustlink serve` on one PostgreSQL) share: device events (a revocation on one replica closes the device's connections on every replica) and the fan-out of the embedded MQTT brokers (a message published on one replica reaches subscribers on the others). Unset: one process, events in memory. See docs/replicas.md.",
  },
  deviceReconcileSeconds: {
    env: 'TRUSTLINK_DEVICE_RECONCILE_SECONDS',
    schema: z.coerce.number().int().min(1).max(3600),
    default: 30,
    description:
      "How often the device port re-checks the devices of its kept-alive connections against the database and closes those of revoked devices, in case the revocation's event was lost (or, with replicas, never reached this one).",
  },
  firmwareStore: {
    env: 'TRUSTLINK_FIRMWARE_STORE',
    schema: z.enum(['files', 'database']),
    default: 'files',
    description:
      'Where firmware images are kept: `files` under the data directory (`firmware/`), or `database`, in the PostgreSQL database itself (table `firmware_blobs`, in chunks), so that every replica serves every image. `database` needs PostgreSQL. Images already stored stay where they are: choose before uploading.',
  },
  provisioningRunExpiryMinutes: {
    env: 'TRUSTLINK_PROVISIONING_RUN_EXPIRY_MINUTES',
    schema: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 60),
    default: 30,
    description:
      "A provisioning run still in progress this many minutes after it started (the console was closed or lost its connection mid-run) is ended as `abandoned` and audited; a late identity for it is refused (409 `run-abandoned`). Longer than a flash and the device's first boot take.",
  },
} as const;

type Options = typeof CONFIG_OPTIONS;
export type ConfigKey = keyof Options;
export type Config = Readonly<{
  [K in ConfigKey]: Options[K]['default'] extends undefined
    ? z.infer<Options[K]['schema']>
    : Exclude<z.infer<Options[K]['schema']>, undefined>;
}> & { readonly configFile?: string };

/** A configuration problem, phrased for one line of output naming the option. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const CONFIG_FILE_ENV = 'TRUSTLINK_CONFIG_FILE';

/**
 * Reads the configuration once: defaults, then the JSON file (TRUSTLINK_CONFIG_FILE or
 * `configFile`), then TRUSTLINK_* variables. The result is frozen.
 */
export function loadConfig(env: NodeJS.ProcessEnv, configFile?: string): Config {
  const file = configFile ?? env[CONFIG_FILE_ENV];
  const fromFile = file ? readConfigFile(file) : {};
  const out: Record<string, unknown> = {};
  for (const [key, opt] of Object.entries(CONFIG_OPTIONS) as [ConfigKey, Options[ConfigKey]][]) {
    const envValue =
      env[opt.env] ?? ('alsoEnv' in opt ? env[opt.alsoEnv as string] : undefined) ?? undefined;
    const raw =
      envValue !== undefined && envValue !== '' ? envValue : (fromFile[key] ?? opt.default);
    const source = envValue ? opt.env : key in fromFile ? `${key} in ${file}` : 'default';
    if (raw === undefined) {
      out[key] = undefined;
      continue;
    }
    const parsed = (opt.schema as z.ZodType).safeParse(raw);
    if (!parsed.success) {
      const msg = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new ConfigError(`configuration: ${source} (${key}): ${msg}`);
    }
    out[key] = parsed.data;
  }
  if (Boolean(out.managementTlsCertFile) !== Boolean(out.managementTlsKeyFile)) {
    throw new ConfigError(
      'configuration: TRUSTLINK_MANAGEMENT_TLS_CERT_FILE and TRUSTLINK_MANAGEMENT_TLS_KEY_FILE must be set together',
    );
  }
  if (out.keystore === 'pkcs11' && !(out.pkcs11Module && out.pkcs11TokenLabel && out.pkcs11Pin)) {
    throw new ConfigError(
      'configuration: TRUSTLINK_KEYSTORE=pkcs11 needs TRUSTLINK_PKCS11_MODULE, TRUSTLINK_PKCS11_TOKEN_LABEL and TRUSTLINK_PKCS11_PIN',
    );
  }
  if (
    out.firmwareStore === 'database' &&
    !/^postgres(ql)?:\/\//.test(String(out.databaseUrl ?? ''))
  ) {
    throw new ConfigError(
      'configuration: TRUSTLINK_FIRMWARE_STORE=database needs a PostgreSQL TRUSTLINK_DATABASE_URL',
    );
  }
  try {
    parseAllowList(String(out.outboundAllowList ?? ''));
  } catch (err) {
    throw new ConfigError(
      `configuration: TRUSTLINK_OUTBOUND_ALLOW_LIST (outboundAllowList): ${(err as Error).message}`,
    );
  }
  if (file) out.configFile = file;
  return Object.freeze(out) as Config;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `configuration: cannot read ${CONFIG_FILE_ENV} ${file}: ${(err as Error).message}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`configuration: ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`configuration: ${file} must hold a JSON object`);
  }
  for (const key of Object.keys(data)) {
    if (!(key in CONFIG_OPTIONS)) {
      throw new ConfigError(`configuration: ${file}: unknown option "${key}"`);
    }
  }
  return data as Record<string, unknown>;
}

/** The base URL of the plain-HTTP PKI endpoints (CRL, OCSP) as written into certificates. */
export function effectivePkiBaseUrl(config: Config, boundPort?: number): string {
  return (
    config.pkiBaseUrl?.replace(/\/+$/, '') ??
    `http://${config.publicHostname}:${boundPort ?? config.pkiHttpPort}`
  );
}

/** The console's address as printed to users (links): the configured one, or this server's. */
export function effectiveConsoleUrl(config: Config, boundPort?: number): string {
  return (
    config.consoleUrl?.replace(/\/+$/, '') ??
    `https://${config.publicHostname}:${boundPort ?? config.managementPort}`
  );
}

/** The database URL in force: the configured one, or the SQLite file in the data directory. */
export function effectiveDatabaseUrl(config: Config): string {
  return config.databaseUrl ?? `sqlite:${path.join(config.dataDir, 'trustlink.db')}`;
}

/** Renders docs/configuration.md from CONFIG_OPTIONS. */
export function renderConfigDocs(): string {
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated by `npm run docs:config` from packages/server/src/config.ts. Do not edit by hand. -->',
    '',
    '`trustlink serve` reads its configuration once at start: defaults, then an optional JSON file,',
    `then environment variables (which win). Name the file with \`${CONFIG_FILE_ENV}\` or`,
    '`trustlink serve --config <file>`; its keys are the names in the first column. A bad value stops',
    'the server with one line naming the option.',
    '',
    '| option (file key) | variable | default | meaning |',
    '| --- | --- | --- | --- |',
  ];
  for (const [key, opt] of Object.entries(CONFIG_OPTIONS)) {
    const envs = 'alsoEnv' in opt ? `\`${opt.env}\` (or \`${opt.alsoEnv}\`)` : `\`${opt.env}\``;
    const def = opt.default === undefined || opt.default === '' ? '(unset)' : `\`${opt.default}\``;
    const secret = 'secret' in opt && opt.secret ? ' Secret: never logged.' : '';
    lines.push(`| \`${key}\` | ${envs} | ${def} | ${opt.description}${secret} |`);
  }
  return lines.join('\n') + '\n';
}
