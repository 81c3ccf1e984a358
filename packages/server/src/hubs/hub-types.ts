import { X509Certificate } from 'node:crypto';
import { HUB_TYPES } from '@trustlink/protocol';
import { z } from 'zod';
import { HOST_PATTERN } from '../lib/outbound-fns.js';
import { DEFAULT_RULES, accessRulesSchema } from '../mqtt/mqtt-rules-fns.js';
import { checkPolicyTemplate, DEFAULT_AWS_POLICY } from './aws/aws-iot-fns.js';
import {
  AUTHORIZER_NAME_PATTERN,
  DEFAULT_TOKEN_KEY_NAME,
  LAMBDA_ARN_PATTERN,
  TOKEN_KEY_NAME_PATTERN,
} from './aws/aws-authorizer-fns.js';
import { AMAZON_ROOT_CA_1, AZURE_ROOTS } from './cloud/cloud-roots.js';

export { HUB_TYPES };
export type HubType = (typeof HUB_TYPES)[number];

/** What the API shows in place of a secret that is set. Sent back, it means "keep it". */
export const OBSCURED = '********';

/**
 * The write-only fields of each hub type. Their values are sealed under the master key in
 * `hubs.secrets` and never returned: reads show OBSCURED and `secrets.<field>.set`.
 */
export const SECRET_FIELDS = {
  mqtt: [],
  mosquitto: [],
  'aws-iot-core': ['accessKeyId', 'secretAccessKey'],
  'azure-iot-hub': ['sharedAccessKey'],
  'azure-iot-central': ['apiToken'],
} as const satisfies Record<HubType, readonly string[]>;

const hubName = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(64, 'must be at most 64 characters')
  .regex(/^[\p{L}\p{N} ._-]+$/u, 'may hold letters, digits, spaces, dot, underscore and hyphen');

const host = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .regex(HOST_PATTERN, 'must be a host name or an IP address (no scheme, port or path)');
const port = z.number().int().min(1).max(65535);

/** One or more PEM certificates (a CA bundle), each of which must parse. */
const pemCertificates = z
  .string()
  .max(64 * 1024)
  .superRefine((pem, ctx) => {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (!blocks?.length) {
      ctx.addIssue({ code: 'custom', message: 'must hold PEM certificates' });
      return;
    }
    if (blocks.length > 16) ctx.addIssue({ code: 'custom', message: 'at most 16 certificates' });
    for (const b of blocks) {
      try {
        new X509Certificate(b);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'holds a certificate that does not parse' });
        return;
      }
    }
    if (/PRIVATE KEY/.test(pem))
      ctx.addIssue({ code: 'custom', message: 'must not hold a private key' });
  });

const httpsUrl = z
  .string()
  .url()
  .max(2048)
  .refine((u) => u.startsWith('https://'), 'must be an https:// URL');

/** A write-only value: omitted (or OBSCURED) on update keeps the stored one. */
const secret = z.string().min(1).max(4096).optional();

const mqttSettings = z
  .object({
    /** Who may publish and subscribe to what; see docs/mqtt.md. */
    rules: accessRulesSchema.default(DEFAULT_RULES),
  })
  .strict();

const mosquittoSettings = z
  .object({
    /** Where devices, tools and the platform reach the broker's TLS listener. */
    host,
    port: port.default(8883),
    /** CA certificate(s) that signed the broker's server certificate, handed to devices. */
    caCertificate: pemCertificates.nullable().default(null),
    rules: accessRulesSchema.default(DEFAULT_RULES),
    /**
     * The broker's directory under the operator's `mosquittoManagedRoot`, where the platform
     * writes its CA bundle, CRLs and ACL and reads its `mosquitto.pid`.
     */
    managedDirectory: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9._-]{0,63}$/,
        'must be one directory name: lower-case letters, digits, dot, underscore, hyphen',
      )
      .refine((d) => !d.includes('..'), 'must not contain ..'),
  })
  .strict();

const awsSettings = z
  .object({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region (eu-west-1)'),
    endpoint: host,
    port: port.default(8883),
    accessKeyId: secret,
    secretAccessKey: secret,
    /**
     * Custom authentication: the platform sets up an AWS IoT custom authorizer (see
     * docs/cloud-hubs.md) that runs the user's Lambda function and checks the tokens the
     * platform signs for devices.
     */
    customAuthentication: z.boolean().default(false),
    /** The authorizer's name; unset means `trustlink-<hub id>`. */
    customAuthorizerName: z
      .string()
      .regex(AUTHORIZER_NAME_PATTERN, 'must be 1-128 letters, digits or _=,@-')
      .nullable()
      .default(null),
    /** The user's authorizer Lambda function (the platform cannot deploy code into the account). */
    customAuthorizerFunctionArn: z
      .string()
      .regex(
        LAMBDA_ARN_PATTERN,
        'must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)',
      )
      .nullable()
      .default(null),
    /** The key under which devices send their token (header, query or MQTT user name). */
    customAuthorizerTokenKeyName: z
      .string()
      .regex(TOKEN_KEY_NAME_PATTERN, 'must be 1-128 letters, digits, _ or -')
      .default(DEFAULT_TOKEN_KEY_NAME),
    /** Make it the account's default authorizer (devices then need not name it). */
    customAuthorizerDefault: z.boolean().default(false),
    /** Add the Lambda permission that lets AWS IoT invoke the function (lambda:AddPermission). */
    customAuthorizerGrantInvoke: z.boolean().default(true),
    /** Lifetime of the tokens the platform signs for devices. */
    customAuthorizerTokenMinutes: z.number().int().min(5).max(1440).default(60),
    /** The Lambda API endpoint; unset means `https://lambda.<function's region>.amazonaws.com`. */
    lambdaApiEndpoint: httpsUrl.nullable().default(null),
    jitpRoleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN')
      .nullable()
      .default(null),
    rootCertificate: pemCertificates.nullable().default(AMAZON_ROOT_CA_1),
    /**
     * `per-device`: each device certificate is registered on its own (RegisterCertificateWithoutCA);
     * `ca`: our issuing CAs are registered (with the verification certificate over AWS's
     * registration code) and device certificates are registered under them.
     */
    registration: z.enum(['per-device', 'ca']).default('per-device'),
    /** The IoT policy each device gets; `{{deviceId}}` stands for the device ID. */
    policyDocument: z
      .string()
      .max(20_000)
      .default(DEFAULT_AWS_POLICY)
      .superRefine((doc, ctx) => {
        for (const message of checkPolicyTemplate(doc)) ctx.addIssue({ code: 'custom', message });
      }),
    /** The AWS IoT API endpoint; unset means `https://iot.<region>.amazonaws.com`. */
    apiEndpoint: httpsUrl.nullable().default(null),
    /** Extra CA(s) to trust for the API endpoint (a private endpoint or proxy); rarely needed. */
    apiCaCertificate: pemCertificates.nullable().default(null),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.customAuthentication && !v.customAuthorizerFunctionArn)
      ctx.addIssue({
        code: 'custom',
        path: ['customAuthorizerFunctionArn'],
        message: 'is required with customAuthentication: the Lambda function AWS IoT runs',
      });
  });

const azureHubSettings = z
  .object({
    hostName: host,
    sharedAccessPolicyName: z.string().min(1).max(64),
    sharedAccessKey: secret,
    rootCertificate: pemCertificates.nullable().default(AZURE_ROOTS),
    /**
     * `thumbprint`: the device identity holds its certificate's thumbprint (renewal updates
     * it, with the old one kept as secondary until retired); `ca`: the identity trusts any
     * certificate from a CA the operator has uploaded and verified in the hub.
     */
    authentication: z.enum(['thumbprint', 'ca']).default('thumbprint'),
    /** The hub's REST endpoint; unset means `https://<hostName>`. */
    apiEndpoint: httpsUrl.nullable().default(null),
    apiCaCertificate: pemCertificates.nullable().default(null),
  })
  .strict();

const azureCentralSettings = z
  .object({
    appUrl: z
      .string()
      .url()
      .refine((u) => u.startsWith('https://'), 'must be an https:// URL'),
    apiToken: secret,
    rootCertificate: pemCertificates.nullable().default(AZURE_ROOTS),
    /** The application's ID scope (Permissions > Device connection groups), for devices. */
    idScope: z
      .string()
      .regex(/^0ne[0-9A-F]{8}$/, 'must be an ID scope (0ne followed by 8 hex digits)')
      .nullable()
      .default(null),
    apiCaCertificate: pemCertificates.nullable().default(null),
  })
  .strict();

/** What users send to create or replace a hub: a name, a type and that type's settings. */
export const hubInputSchema = z.discriminatedUnion('type', [
  z
    .object({
      name: hubName,
      type: z.literal('mqtt'),
      settings: mqttSettings.default({ rules: DEFAULT_RULES }),
    })
    .strict(),
  z.object({ name: hubName, type: z.literal('mosquitto'), settings: mosquittoSettings }).strict(),
  z.object({ name: hubName, type: z.literal('aws-iot-core'), settings: awsSettings }).strict(),
  z
    .object({ name: hubName, type: z.literal('azure-iot-hub'), settings: azureHubSettings })
    .strict(),
  z
    .object({ name: hubName, type: z.literal('azure-iot-central'), settings: azureCentralSettings })
    .strict(),
]);
export type HubInput = z.infer<typeof hubInputSchema>;

export type MqttSettings = z.infer<typeof mqttSettings>;
export type MosquittoSettings = z.infer<typeof mosquittoSettings>;

/** A hub as stored: settings without secret values, and the secrets apart. */
export interface HubRecord {
  id: string;
  name: string;
  type: HubType;
  /** The type's settings; secret fields are absent here. */
  settings: Record<string, unknown>;
  /** Issuing CA of this hub's tool certificates (MQTT-type hubs), made on first use. */
  toolsCaId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A hub as the API shows it: secrets obscured, with which of them are set. */
export interface Hub {
  id: string;
  name: string;
  type: HubType;
  settings: Record<string, unknown>;
  secrets: Record<string, { set: boolean }>;
  createdAt: string;
  updatedAt: string;
}

export const hubSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(HUB_TYPES),
  settings: z.record(z.string(), z.unknown()),
  secrets: z.record(z.string(), z.object({ set: z.boolean() })),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** Hub types served by a broker the platform runs or manages (tools, access rules). */
export const BROKER_TYPES: readonly HubType[] = ['mqtt', 'mosquitto'];
