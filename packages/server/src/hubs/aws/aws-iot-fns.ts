import { createHash } from 'node:crypto';

/** The placeholder a policy template holds where the device ID goes. */
export const DEVICE_ID_PLACEHOLDER = '{{deviceId}}';

/**
 * The default AWS IoT policy of a device: connect only as itself (client ID = thing name =
 * device ID), publish and receive only under its own topic tree. `${...}` ARN parts are
 * filled from the hub's region; the account part is `*`, so one template suits any account.
 */
export const DEFAULT_AWS_POLICY = JSON.stringify(
  {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'iot:Connect',
        Resource: `arn:aws:iot:*:*:client/${DEVICE_ID_PLACEHOLDER}`,
      },
      {
        Effect: 'Allow',
        Action: ['iot:Publish', 'iot:Receive'],
        Resource: `arn:aws:iot:*:*:topic/devices/${DEVICE_ID_PLACEHOLDER}/*`,
      },
      {
        Effect: 'Allow',
        Action: 'iot:Subscribe',
        Resource: `arn:aws:iot:*:*:topicfilter/devices/${DEVICE_ID_PLACEHOLDER}/*`,
      },
    ],
  },
  null,
  2,
);

/** Problems with a policy template, or an empty list. */
export function checkPolicyTemplate(doc: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(doc.split(DEVICE_ID_PLACEHOLDER).join('device'));
  } catch {
    return ['must be a JSON policy document'];
  }
  const st = (parsed as { Statement?: unknown }).Statement;
  if (!Array.isArray(st) || !st.length) return ['must hold a Statement list'];
  const errs: string[] = [];
  st.forEach((s: Record<string, unknown>, i) => {
    if (s?.Effect !== 'Allow' && s?.Effect !== 'Deny')
      errs.push(`statement ${i + 1}: Effect must be Allow or Deny`);
    if (!s?.Action) errs.push(`statement ${i + 1}: Action is required`);
    if (!s?.Resource) errs.push(`statement ${i + 1}: Resource is required`);
  });
  return errs;
}

/**
 * The device's policy document: the template with the device ID put in. Device IDs are
 * lower-case letters, digits and hyphens, so they need no JSON escaping, but we escape anyway.
 */
export function renderPolicy(template: string, deviceId: string): string {
  const safe = JSON.stringify(deviceId).slice(1, -1);
  return JSON.stringify(JSON.parse(template.split(DEVICE_ID_PLACEHOLDER).join(safe)));
}

/** The policy a device gets: one per device, named after it (AWS policy names: [\w+=,.@-]). */
export function policyNameOf(deviceId: string): string {
  return `trustlink-${deviceId}`.replace(/[^\w+=,.@-]/g, '_').slice(0, 128);
}

/** AWS IoT names a certificate by the SHA-256 of its DER, in hex. */
export function awsCertificateId(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}
