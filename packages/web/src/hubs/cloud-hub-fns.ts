import { hostProblem, pemCertificatesProblem, portProblem } from './hub-fns';
import type { Hub } from './hub-types';

/**
 * The server's checks of the cloud hub settings (packages/server/src/hubs/hub-types.ts),
 * mirrored so a form says what is wrong before anything is sent.
 */
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const ID_SCOPE = /^0ne[0-9A-F]{8}$/;

/** The types that are a cloud service rather than a broker (their status says more). */
export const CLOUD_HUB_TYPES: readonly string[] = [
  'aws-iot-core',
  'azure-iot-hub',
  'azure-iot-central',
];
export const isCloudHubType = (type: string): boolean => CLOUD_HUB_TYPES.includes(type);

/** GET /hubs/defaults: what a new cloud hub starts with (the server's own defaults). */
export interface CloudDefaults {
  'aws-iot-core': {
    port: number;
    registration: string;
    policyDocument: string;
    rootCertificate: string;
  };
  'azure-iot-hub': { authentication: string; rootCertificate: string };
  'azure-iot-central': { rootCertificate: string };
}

export function regionProblem(region: string): string | undefined {
  return AWS_REGION.test(region.trim()) ? undefined : 'must be an AWS region (eu-west-1)';
}

export function roleArnProblem(arn: string): string | undefined {
  return IAM_ROLE_ARN.test(arn.trim()) ? undefined : 'must be an IAM role ARN';
}

export function idScopeProblem(scope: string): string | undefined {
  return ID_SCOPE.test(scope.trim())
    ? undefined
    : 'must be an ID scope (0ne followed by 8 hex digits)';
}

/** An https:// URL, as the server's `httpsUrl` takes it. */
export function httpsUrlProblem(url: string): string | undefined {
  const u = url.trim();
  if (u.length > 2048) return 'is too long';
  try {
    new URL(u);
  } catch {
    return 'must be a URL';
  }
  return u.startsWith('https://') ? undefined : 'must be an https:// URL';
}

/** A text box's value as text, trimmed ('' for anything else). */
export const textOf = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

/**
 * Whether the AWS policy template is a JSON document with a Statement list; `{{deviceId}}`
 * stands for the device ID and is put in as the server does before parsing. What each
 * statement must hold (Effect, Action, Resource) is the server's to say: its messages name
 * the statement and are shown beside the field.
 */
export function policyDocumentProblem(doc: string): string | undefined {
  if (doc.length > 20_000) return 'is too long (at most 20000 characters)';
  let parsed: unknown;
  try {
    parsed = JSON.parse(doc.split('{{deviceId}}').join('device'));
  } catch (err) {
    return `must be a JSON policy document (${(err as Error).message})`;
  }
  const st = (parsed as { Statement?: unknown } | null)?.Statement;
  if (!Array.isArray(st) || st.length === 0) return 'must hold a Statement list';
  return undefined;
}

/** The JSON pretty-printed with two spaces, placeholders kept; unchanged when it is not JSON. */
export function formatPolicyDocument(doc: string): string {
  try {
    return JSON.stringify(JSON.parse(doc), null, 2);
  } catch {
    return doc;
  }
}

/** What the platform keeps in a cloud for a device, in words (GET /hubs/{id}/devices/{id}). */
export const CLOUD_OBJECT_LABELS: Record<string, string> = {
  thing: 'Thing',
  policy: 'IoT policy',
  certificate: 'Certificate',
  ca: 'CA certificate',
  identity: 'Device identity',
  attestation: 'X.509 attestation',
};

/** Colours of object states: live ones green, switched-off ones grey, revoked red. */
export function cloudStateColour(state: string): string {
  if (['active', 'enabled', 'registered', 'enrolled', 'renewed'].includes(state)) return 'green.9';
  if (state === 'revoked' || state === 'blocked') return 'red.9';
  return 'gray.7';
}

export interface CloudObject {
  kind: string;
  localId: string;
  remoteId: string;
  state: string;
  updatedAt: string;
}

/** Objects in the order a reader expects: the thing or identity first, then by kind, newest first. */
export function sortCloudObjects(objects: CloudObject[]): CloudObject[] {
  const order = Object.keys(CLOUD_OBJECT_LABELS);
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  return [...objects].sort(
    (a, b) => rank(a.kind) - rank(b.kind) || b.updatedAt.localeCompare(a.updatedAt),
  );
}

/**
 * Key in a form's values listing which write-only secrets the hub being edited already has, so
 * `validate` (which sees only values) can ask for a secret on creation and not on a change.
 */
export const SECRETS_SET = '#secretsSet';

export function secretsSetOf(hub: Hub | undefined): string[] {
  return Object.entries(hub?.secrets ?? {})
    .filter(([, s]) => s.set)
    .map(([k]) => k);
}

/** Whether a secret is missing: nothing typed and none stored. */
export function secretMissing(values: Record<string, unknown>, field: string): boolean {
  const set = (values[SECRETS_SET] as string[] | undefined) ?? [];
  return !textOf(values[field]) && !set.includes(field);
}

/** The common text settings of an edited hub ('' when unset), for a form's `initial`. */
export function textSettings(hub: Hub | undefined, fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const v = hub?.settings[f];
    out[f] = typeof v === 'string' ? v : '';
  }
  return out;
}

/** An optional text setting: trimmed, or null when empty. */
export const orNull = (v: unknown): string | null => textOf(v) || null;

/** Checks what the server checks of AWS IoT Core settings; messages as its own, capitalised. */
export function awsProblems(v: Record<string, unknown>): Record<string, string> {
  const e: Record<string, string> = {};
  const region = regionProblem(textOf(v.region));
  if (region) e.region = `Region ${region}.`;
  if (secretMissing(v, 'accessKeyId')) e.accessKeyId = 'Access key ID is required.';
  if (secretMissing(v, 'secretAccessKey')) e.secretAccessKey = 'Secret access key is required.';
  const host = hostProblem(textOf(v.endpoint));
  if (host) e.endpoint = `Endpoint ${host}.`;
  const port = portProblem(v.port as number | string);
  if (port) e.port = `Port ${port}.`;
  if (v.registration === 'ca' && textOf(v.jitpRoleArn)) {
    const arn = roleArnProblem(textOf(v.jitpRoleArn));
    if (arn) e.jitpRoleArn = `JITP role ${arn}.`;
  }
  const name = textOf(v.customAuthorizerName);
  if (v.customAuthentication === true && name.length > 128)
    e.customAuthorizerName = 'Authorizer name must be at most 128 characters.';
  const doc = textOf(v.policyDocument);
  if (doc) {
    const p = policyDocumentProblem(doc);
    if (p) e.policyDocument = `Policy document ${p}.`;
  }
  for (const [f, label] of [
    ['rootCertificate', 'Root certificate'],
    ['apiCaCertificate', 'API CA certificate'],
  ] as const) {
    const pem = textOf(v[f]);
    const p = pem ? pemCertificatesProblem(pem) : undefined;
    if (p) e[f] = `${label} ${p}.`;
  }
  const api = textOf(v.apiEndpoint);
  const apiProblem = api ? httpsUrlProblem(api) : undefined;
  if (apiProblem) e.apiEndpoint = `API endpoint ${apiProblem}.`;
  return e;
}

/** The settings to send; secrets are added apart (secretsToSend), empty boxes take defaults. */
export function awsSettings(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    region: textOf(v.region),
    endpoint: textOf(v.endpoint),
    port: Number(v.port),
    registration: v.registration === 'ca' ? 'ca' : 'per-device',
    jitpRoleArn: v.registration === 'ca' ? orNull(v.jitpRoleArn) : null,
    customAuthentication: v.customAuthentication === true,
    customAuthorizerName: v.customAuthentication === true ? orNull(v.customAuthorizerName) : null,
    apiEndpoint: orNull(v.apiEndpoint),
    apiCaCertificate: orNull(v.apiCaCertificate),
  };
  // Left out when empty: the server then uses its template and Amazon's root.
  if (textOf(v.policyDocument)) out.policyDocument = String(v.policyDocument);
  if (textOf(v.rootCertificate)) out.rootCertificate = textOf(v.rootCertificate);
  return out;
}

/** The PEM fields' checks, shared by both Azure types. */
export function pemProblems(v: Record<string, unknown>, e: Record<string, string>) {
  for (const [f, label] of [
    ['rootCertificate', 'Root certificate'],
    ['apiCaCertificate', 'API CA certificate'],
  ] as const) {
    const pem = textOf(v[f]);
    const p = pem ? pemCertificatesProblem(pem) : undefined;
    if (p) e[f] = `${label} ${p}.`;
  }
}

export function iotHubProblems(v: Record<string, unknown>): Record<string, string> {
  const e: Record<string, string> = {};
  const host = hostProblem(textOf(v.hostName));
  if (host) e.hostName = `Host name ${host}.`;
  const policy = textOf(v.sharedAccessPolicyName);
  if (!policy) e.sharedAccessPolicyName = 'Shared access policy name is required.';
  else if (policy.length > 64)
    e.sharedAccessPolicyName = 'Shared access policy name must be at most 64 characters.';
  if (secretMissing(v, 'sharedAccessKey')) e.sharedAccessKey = 'Shared access key is required.';
  pemProblems(v, e);
  const api = textOf(v.apiEndpoint);
  const apiProblem = api ? httpsUrlProblem(api) : undefined;
  if (apiProblem) e.apiEndpoint = `API endpoint ${apiProblem}.`;
  return e;
}

export function iotHubSettings(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    hostName: textOf(v.hostName),
    sharedAccessPolicyName: textOf(v.sharedAccessPolicyName),
    authentication: v.authentication === 'ca' ? 'ca' : 'thumbprint',
    apiEndpoint: orNull(v.apiEndpoint),
    apiCaCertificate: orNull(v.apiCaCertificate),
  };
  if (textOf(v.rootCertificate)) out.rootCertificate = textOf(v.rootCertificate);
  return out;
}

export function centralProblems(v: Record<string, unknown>): Record<string, string> {
  const e: Record<string, string> = {};
  const url = httpsUrlProblem(textOf(v.appUrl));
  if (url) e.appUrl = `Application URL ${url}.`;
  if (secretMissing(v, 'apiToken')) e.apiToken = 'API token is required.';
  const scope = textOf(v.idScope);
  const sp = scope ? idScopeProblem(scope) : undefined;
  if (sp) e.idScope = `ID scope ${sp}.`;
  pemProblems(v, e);
  return e;
}

export function centralSettings(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    appUrl: textOf(v.appUrl),
    idScope: orNull(v.idScope),
    apiCaCertificate: orNull(v.apiCaCertificate),
  };
  if (textOf(v.rootCertificate)) out.rootCertificate = textOf(v.rootCertificate);
  return out;
}
