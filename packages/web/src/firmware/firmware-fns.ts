import type { Attribute, FirmwareSignature, RolloutCounts, SourceFormat } from './firmware-types';

/** The server's limits (packages/server/src/firmware/firmware-types.ts), mirrored. */
export const ATTRIBUTE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const MAX_ATTRIBUTES = 32;
export const MAX_ATTRIBUTE_VALUE = 256;
export const MAX_DESCRIPTION = 1024;
const NAME = /^[\p{L}\p{N} ._+-]+$/u;
const VERSION = /^[\x21-\x7e]{1,64}$/;
const MAX_SECURITY_VERSION = 0xffffffff;

/** Why a firmware name is refused, as the server words it; undefined when it is good. */
export function firmwareNameProblem(name: string): string | undefined {
  const n = name.trim();
  if (!n) return 'is required';
  if (n.length > 128) return 'must be at most 128 characters';
  if (!NAME.test(n)) return 'may hold letters, digits, spaces, dot, plus, underscore and hyphen';
  return undefined;
}

export function versionProblem(v: string): string | undefined {
  return VERSION.test(v) ? undefined : 'must be 1 to 64 visible ASCII characters without spaces';
}

export function securityVersionProblem(v: number | string): string | undefined {
  const n = typeof v === 'number' ? v : Number(v);
  if (v === '' || !Number.isInteger(n) || n < 0 || n > MAX_SECURITY_VERSION)
    return `must be a whole number from 0 to ${MAX_SECURITY_VERSION}`;
  return undefined;
}

/**
 * Per-row problems of an attribute list, keyed `<i>.name` / `<i>.value`: names as the server
 * accepts them, unique, values at most 256 characters. Empty rows are left for the caller to
 * drop (`cleanAttributes`).
 */
export function attributeProblems(list: Attribute[]): Record<string, string> {
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  list.forEach((a, i) => {
    const name = a.name.trim();
    if (!ATTRIBUTE_NAME.test(name))
      out[`${i}.name`] = 'must be 1 to 64 letters, digits, dots, underscores or hyphens';
    else if (seen.has(name)) out[`${i}.name`] = `attribute ${name} is there twice`;
    seen.add(name);
    if (a.value.length > MAX_ATTRIBUTE_VALUE)
      out[`${i}.value`] = `must be at most ${MAX_ATTRIBUTE_VALUE} characters`;
  });
  if (list.length > MAX_ATTRIBUTES) out['list'] = `at most ${MAX_ATTRIBUTES} attributes`;
  return out;
}

/** The rows the user filled in (a row with neither name nor value is dropped), names trimmed. */
export function cleanAttributes(list: Attribute[]): Attribute[] {
  return list
    .filter((a) => a.name.trim() !== '' || a.value !== '')
    .map((a) => ({ name: a.name.trim(), value: a.value }));
}

/**
 * A path with repeated `attr=name:value` parameters (URLSearchParams.set in the API client
 * keeps one value per key, and the server reads the list).
 */
export function pathWithAttributes(
  path: string,
  params: Record<string, string | number | undefined>,
  attributes: Attribute[],
): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  for (const a of attributes) q.append('attr', `${a.name}:${a.value}`);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** How the input of a file is guessed from its name: `.hex`/`.ihex` are Intel HEX text. */
export function inputOfFile(fileName: string): SourceFormat {
  return /\.(hex|ihex|ihx)$/i.test(fileName) ? 'intel-hex' : 'binary';
}

/** A byte count for people: 512 B, 1.5 KiB, 12.3 MiB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/**
 * The signing keys that signed an image, each named once (a key makes a manifest and maybe a
 * native signature); a deleted key shows as such.
 */
export function signedBy(signatures: FirmwareSignature[]): string[] {
  const names = new Map<string, string>();
  for (const s of signatures) names.set(s.keyId, s.keyName ?? 'a deleted key');
  return [...names.values()];
}

/** Share of the rollout in each status, in percent of the total (0 when nothing is there). */
export function rolloutShares(
  c: RolloutCounts,
): { status: Exclude<keyof RolloutCounts, 'total'>; count: number; percent: number }[] {
  const order = ['installed', 'installing', 'downloading', 'pending', 'failed'] as const;
  return order.map((status) => ({
    status,
    count: c[status],
    percent: c.total ? (c[status] / c.total) * 100 : 0,
  }));
}

/** Pages of a list kept in the browser (the firmware API answers the whole list). */
export function pageOf<T>(items: T[], page: number, size: number): T[] {
  return items.slice((page - 1) * size, page * size);
}
