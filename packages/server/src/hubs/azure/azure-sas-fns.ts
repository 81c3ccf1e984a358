import { createHmac } from 'node:crypto';

/**
 * A shared access signature as Azure IoT documents it: the HMAC-SHA256, keyed with the
 * base64-decoded policy key, of the URL-encoded resource URI, a newline and the expiry in
 * seconds since the epoch; the signature base64 and URL-encoded in the token.
 */
export function sasToken(opts: {
  /** The resource URI, e.g. the hub host name `myhub.azure-devices.net`. */
  resourceUri: string;
  /** The policy's key, base64 as the portal shows it. */
  key: string;
  /** Shared access policy name (`skn`); omitted for device-scoped tokens. */
  policyName?: string;
  expiry: number;
}): string {
  const sr = encodeURIComponent(opts.resourceUri);
  const sig = createHmac('sha256', Buffer.from(opts.key, 'base64'))
    .update(`${sr}\n${opts.expiry}`)
    .digest('base64');
  let token = `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${opts.expiry}`;
  if (opts.policyName) token += `&skn=${encodeURIComponent(opts.policyName)}`;
  return token;
}

/** The fields of a token, decoded; undefined when it is not a shared access signature. */
export function parseSasToken(
  token: string,
): { sr: string; sig: string; se: number; skn?: string } | undefined {
  const m = /^SharedAccessSignature (.+)$/.exec(token.trim());
  if (!m) return undefined;
  const f = new URLSearchParams(m[1]!.replace(/\+/g, '%2B'));
  const sr = f.get('sr');
  const sig = f.get('sig');
  const se = Number(f.get('se'));
  if (!sr || !sig || !Number.isInteger(se)) return undefined;
  return { sr, sig, se, skn: f.get('skn') ?? undefined };
}
