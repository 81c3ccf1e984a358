import type { TileColour } from '../dashboard/status-fns';
import type { AccessRules, Hub, HubCheck, HubStatus } from './hub-types';
import { OBSCURED } from './hub-types';

/** The server's checks (packages/server/src/hubs/hub-types.ts, mqtt/mqtt-rules-fns.ts), mirrored. */
const HUB_NAME = /^[\p{L}\p{N} ._-]+$/u;
const HOST_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[?[0-9A-Fa-f:.]+\]?$/;
const MANAGED_DIRECTORY = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const MAX_FILTERS = 32;

/** The rules a new hub starts with (the server's defaults, PROTOCOL.md "MQTT"). */
export const DEFAULT_RULES: AccessRules = {
  device: { publish: ['devices/{clientId}/#'], subscribe: ['devices/{clientId}/#'] },
  tool: { publish: ['devices/+/commands/#'], subscribe: ['devices/+/#'] },
};

/** Why a hub or tool name is refused (the same rule for both); undefined when good. */
export function hubNameProblem(name: string): string | undefined {
  const n = name.trim();
  if (!n) return 'is required';
  if (n.length > 64) return 'must be at most 64 characters';
  if (!HUB_NAME.test(n)) return 'may hold letters, digits, spaces, dot, underscore and hyphen';
  return undefined;
}

export function hostProblem(host: string): string | undefined {
  const h = host.trim();
  if (!h || h.length > 253 || !HOST_PATTERN.test(h))
    return 'must be a host name or an IP address (no scheme, port or path)';
  return undefined;
}

export function portProblem(port: number | string): string | undefined {
  const n = typeof port === 'number' ? port : Number(port);
  return port !== '' && Number.isInteger(n) && n >= 1 && n <= 65535
    ? undefined
    : 'must be a port from 1 to 65535';
}

export function managedDirectoryProblem(dir: string): string | undefined {
  if (!MANAGED_DIRECTORY.test(dir))
    return 'must be one directory name: lower-case letters, digits, dot, underscore, hyphen';
  if (dir.includes('..')) return 'must not contain ..';
  return undefined;
}

/** Why a PEM bundle of CA certificates is refused; the server also parses each one. */
export function pemCertificatesProblem(pem: string): string | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (/PRIVATE KEY/.test(pem)) return 'must not hold a private key';
  if (!blocks?.length) return 'must hold PEM certificates';
  if (blocks.length > 16) return 'at most 16 certificates';
  if (pem.length > 64 * 1024) return 'is too long';
  return undefined;
}

/** Why an MQTT topic filter is refused (placeholders `{clientId}` allowed as a whole level). */
export function filterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'is empty';
  if (new TextEncoder().encode(filter).length > 256) return 'is longer than 256 bytes';
  if (filter.includes('\u0000')) return 'holds a NUL character';
  if (filter.startsWith('$')) return 'may not start with $ (reserved for the broker)';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l === '#') {
      if (i !== levels.length - 1) return "'#' may only be the last level";
      continue;
    }
    if (l === '+' || l === '{clientId}') continue;
    if (l.includes('#') || l.includes('+')) return "wildcards '+' and '#' must fill a whole level";
    if (l.includes('{') || l.includes('}'))
      return 'the only placeholder is a whole level {clientId}';
  }
  return undefined;
}

/** The filters of a text box, one a line, blank lines dropped. */
export function filtersOfText(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** The first problem of a list of filters, naming the filter as the server does. */
export function filterListProblem(filters: string[]): string | undefined {
  if (filters.length > MAX_FILTERS) return `at most ${MAX_FILTERS} filters`;
  for (const f of filters) {
    const p = filterProblem(f);
    if (p) return `topic filter "${f}" ${p}`;
  }
  return undefined;
}

/** A hub's access rules as the API gave them, or the defaults when absent or malformed. */
export function rulesOf(hub: Hub | undefined): AccessRules {
  const r = hub?.settings.rules as AccessRules | undefined;
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);
  if (!r || typeof r !== 'object') return DEFAULT_RULES;
  return {
    device: { publish: list(r.device?.publish), subscribe: list(r.device?.subscribe) },
    tool: { publish: list(r.tool?.publish), subscribe: list(r.tool?.subscribe) },
  };
}

/**
 * The secrets to send: a value typed in is sent; an empty box (or the obscured mark) is left
 * out, which tells the server to keep what it has. Secrets are never read back.
 */
export function secretsToSend(
  typed: Record<string, string>,
  fields: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const v = typed[f] ?? '';
    if (v !== '' && v !== OBSCURED) out[f] = v;
  }
  return out;
}

/** How a hub answered its check, in the words the list and tile use. */
export type CheckOutcome = 'reachable' | 'credentials rejected' | 'unreachable';

/**
 * A cloud that answers but refuses the key is a different fix (put the key right) from one
 * that cannot be reached (network, endpoint): the server starts the first's detail with
 * `credentials rejected:`.
 */
export function checkOutcome(check: Pick<HubCheck, 'ok' | 'detail'>): CheckOutcome {
  if (check.ok) return 'reachable';
  return /^credentials rejected:/.test(check.detail) ? 'credentials rejected' : 'unreachable';
}

/** The dashboard's IoT hubs tile: "N of M" reachable, and a line per hub for the details. */
export function hubTile(status: HubStatus): {
  colour: TileColour;
  summary: string;
  detail: string;
} {
  const { reachable, total, hubs } = status;
  if (total === 0)
    return {
      colour: 'gray',
      summary: 'None',
      detail: 'No IoT hub is configured yet. Create one on the IoT Hubs screen.',
    };
  const lines = hubs.map((h: HubCheck) => {
    const outcome = checkOutcome(h);
    if (outcome !== 'credentials rejected')
      return `${h.name}: ${h.ok ? 'answers' : 'fails'} (${h.detail})`;
    return `${h.name}: credentials rejected (${h.detail.replace(/^credentials rejected: */, '')})`;
  });
  // A key put right fixes a refused one; an unreachable one is a network or endpoint matter.
  const refused = hubs.filter((h) => checkOutcome(h) === 'credentials rejected').length;
  const refusedNote = refused
    ? ` ${refused === 1 ? '1 cloud hub refuses' : `${refused} cloud hubs refuse`} the credentials.`
    : '';
  return {
    colour: reachable === total ? 'green' : reachable === 0 ? 'red' : 'orange',
    summary: `${reachable} of ${total}`,
    detail: `${reachable} of ${total} hubs answer their check.${refusedNote} ${lines.join('; ')}.`,
  };
}

/** A file name for a tool's zip, as the server names it. */
export function zipName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]+/g, '_') || 'tool'}.zip`;
}

/** The bytes of a base64 string (the zip in a tool's creation answer). */
export function base64Bytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Puts the server's per-field complaints beside the form's fields: `body.settings.rules.device.
 * publish.0` belongs to the field `rules.device.publish`; a field's several complaints are joined
 * with "; ". Complaints about no field of the form
 * are returned apart, for the alert above it.
 */
export function settingsFieldErrors(
  errors: { path: string; message: string }[] | undefined,
  fields: readonly string[],
): { byField: Record<string, string>; other: string[] } {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const e of errors ?? []) {
    const path = e.path.replace(/^body\./, '');
    const key = path === 'name' ? 'name' : path.replace(/^settings\./, '');
    const field =
      key === 'name' ? 'name' : fields.find((f) => key === f || key.startsWith(`${f}.`));
    // Several complaints about one field (each statement of a policy document) all show.
    if (field)
      byField[field] =
        byField[field] && !byField[field].split('; ').includes(e.message)
          ? `${byField[field]}; ${e.message}`
          : (byField[field] ?? e.message);
    else other.push(`${path}: ${e.message}`);
  }
  return { byField, other };
}
