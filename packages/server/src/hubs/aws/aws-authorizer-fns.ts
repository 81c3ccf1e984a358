import { toBase64url } from '@trustlink/protocol';

/**
 * AWS IoT custom authentication, the pure parts: which authorizer a hub's settings ask for,
 * whether the one AWS holds matches it, and the token a device presents.
 */

/** The header / query / MQTT user-name parameters AWS IoT reads (its documented names). */
export const AUTHORIZER_NAME_PARAM = 'x-amz-customauthorizer-name';
export const AUTHORIZER_SIGNATURE_PARAM = 'x-amz-customauthorizer-signature';
export const DEFAULT_TOKEN_KEY_NAME = 'x-trustlink-token';

/** AWS's patterns: authorizer names, token key names, Lambda function ARNs. */
export const AUTHORIZER_NAME_PATTERN = /^[\w=,@-]{1,128}$/;
export const TOKEN_KEY_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,128}$/;
export const LAMBDA_ARN_PATTERN =
  /^arn:aws[a-z-]*:lambda:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):function:([a-zA-Z0-9_-]{1,64})(?::[a-zA-Z0-9_$-]{1,128})?$/;

/** The custom-authentication settings of an AWS IoT Core hub (see hub-types.ts). */
export interface AuthorizerSettings {
  customAuthentication: boolean;
  customAuthorizerName: string | null;
  customAuthorizerFunctionArn?: string | null;
  customAuthorizerTokenKeyName?: string;
  customAuthorizerDefault?: boolean;
  customAuthorizerGrantInvoke?: boolean;
  customAuthorizerTokenMinutes?: number;
}

/** What the platform keeps in AWS for a hub with custom authentication on. */
export interface WantedAuthorizer {
  name: string;
  functionArn: string;
  tokenKeyName: string;
  asDefault: boolean;
  grantInvoke: boolean;
  tokenMinutes: number;
}

/** The authorizer's name: the one set, or one made from the hub id (stable across renames). */
export function authorizerNameOf(
  hubId: string,
  s: Pick<AuthorizerSettings, 'customAuthorizerName'>,
) {
  return s.customAuthorizerName ?? `trustlink-${hubId}`.replace(/[^\w=,@-]/g, '_').slice(0, 128);
}

/** The authorizer a hub's settings ask for, or undefined when custom authentication is off. */
export function wantedAuthorizer(
  hubId: string,
  s: AuthorizerSettings,
): WantedAuthorizer | undefined {
  if (!s.customAuthentication || !s.customAuthorizerFunctionArn) return undefined;
  return {
    name: authorizerNameOf(hubId, s),
    functionArn: s.customAuthorizerFunctionArn,
    tokenKeyName: s.customAuthorizerTokenKeyName ?? DEFAULT_TOKEN_KEY_NAME,
    asDefault: s.customAuthorizerDefault ?? false,
    grantInvoke: s.customAuthorizerGrantInvoke ?? true,
    tokenMinutes: s.customAuthorizerTokenMinutes ?? 60,
  };
}

/** The authorizer as DescribeAuthorizer shows it (the fields we set). */
export interface DescribedAuthorizer {
  authorizerFunctionArn?: string;
  tokenKeyName?: string;
  tokenSigningPublicKeys?: Record<string, string>;
  status?: string;
  signingDisabled?: boolean;
}

const normPem = (pem: string) => pem.replace(/\s+/g, '');

/**
 * Why the authorizer AWS holds differs from the one wanted (an UpdateAuthorizer is due), or
 * an empty list. Keys are compared by name and PEM body, ignoring line breaks.
 */
export function authorizerDrift(
  have: DescribedAuthorizer,
  want: WantedAuthorizer,
  keys: Record<string, string>,
): string[] {
  const out: string[] = [];
  if (have.authorizerFunctionArn !== want.functionArn) out.push('function');
  if (have.tokenKeyName !== want.tokenKeyName) out.push('token key name');
  if (have.status !== 'ACTIVE') out.push('status');
  const a = have.tokenSigningPublicKeys ?? {};
  const same =
    Object.keys(a).length === Object.keys(keys).length &&
    Object.entries(keys).every(([k, v]) => a[k] !== undefined && normPem(a[k]) === normPem(v));
  if (!same) out.push('signing keys');
  return out;
}

/** The name a signing key is registered under in tokenSigningPublicKeys ([a-zA-Z0-9:_-]+). */
export const signingKeyNameOf = (keyId: string) =>
  `trustlink-${keyId}`.replace(/[^a-zA-Z0-9:_-]/g, '_').slice(0, 128);

/** The Lambda permission statement that lets AWS IoT invoke the function for this authorizer. */
export const statementIdOf = (authorizerName: string) =>
  `trustlink-iot-authorizer-${authorizerName}`.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 100);

/** The region a Lambda function ARN names (its Lambda API is there). */
export function regionOfFunction(arn: string): string | undefined {
  return LAMBDA_ARN_PATTERN.exec(arn)?.[1];
}

/** Claims of a custom-authorizer token. */
export interface AuthorizerTokenClaims {
  /** The instance. */
  iss: string;
  /** The device ID. */
  sub: string;
  /** The authorizer name. */
  aud: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
}

/**
 * The signing input of a token: an RS256 JWT header and the claims. The platform signs it
 * (the JWT, for the Lambda) and then signs the whole JWT again (the signature AWS IoT checks
 * with the registered public key before it invokes the Lambda). The two inputs never collide:
 * a JWT signing input holds one dot, a whole JWT two.
 */
export function authorizerTokenInput(kid: string, claims: AuthorizerTokenClaims): string {
  const enc = (o: object) => toBase64url(Buffer.from(JSON.stringify(o)));
  return `${enc({ alg: 'RS256', typ: 'JWT', kid })}.${enc(claims)}`;
}

/**
 * The MQTT user name that carries a token to AWS IoT (port 443, ALPN `mqtt`): the client's
 * own name, then the authorizer, the token under its key name and the signature as a query
 * string, each value URL-encoded.
 */
export function mqttUsername(p: {
  deviceId: string;
  authorizerName: string;
  tokenKeyName: string;
  token: string;
  signature: string;
}): string {
  const q = new URLSearchParams();
  q.set(AUTHORIZER_NAME_PARAM, p.authorizerName);
  q.set(p.tokenKeyName, p.token);
  q.set(AUTHORIZER_SIGNATURE_PARAM, p.signature);
  return `${p.deviceId}?${q.toString()}`;
}
