import { type Result, fail } from '../result.js';

/**
 * The line the initial enrolment firmware (IEF) prints on its serial console once it has its
 * identity key, so the console can register the device:
 *
 *   TRUSTLINK-IDENTITY v1 <DER SubjectPublicKeyInfo in standard base64 with padding>
 *
 * One line, ended by LF or CRLF, printed at every boot until the device has enrolled. The
 * platform derives the device ID from the key itself (SHA-256 of the canonical SPKI); the
 * device never names its own ID here, so a wrong or non-canonical key cannot claim one.
 */
export const IDENTITY_LINE_PREFIX = 'TRUSTLINK-IDENTITY';
export const IDENTITY_LINE_VERSION = 'v1';
/** An RSA-3072 SPKI is 422 bytes, 564 in base64; lines past this are not identity lines. */
export const IDENTITY_LINE_MAX_LENGTH = 1024;

const LINE = /^TRUSTLINK-IDENTITY (\S+) (\S+)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export type IdentityLineFailure = 'not-identity-line' | 'unsupported-version' | 'bad-base64';

/** Formats the line a device prints (for device makers' tests and the emulator). */
export function formatIdentityLine(spkiDer: Uint8Array): string {
  return `${IDENTITY_LINE_PREFIX} ${IDENTITY_LINE_VERSION} ${Buffer.from(spkiDer).toString('base64')}`;
}

/**
 * Parses one line (a trailing CR is ignored). The base64 must be canonical: padded, and
 * re-encoding the bytes gives the text back, so one key has one spelling on the wire.
 */
export function parseIdentityLine(line: string): Result<{ spkiDer: Buffer }, IdentityLineFailure> {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.length > IDENTITY_LINE_MAX_LENGTH)
    return fail('not-identity-line', `longer than ${IDENTITY_LINE_MAX_LENGTH} characters`);
  const m = LINE.exec(text);
  if (!m) return fail('not-identity-line', `expected "${IDENTITY_LINE_PREFIX} v1 <base64 SPKI>"`);
  if (m[1] !== IDENTITY_LINE_VERSION)
    return fail('unsupported-version', `version ${m[1]} is not supported (expected v1)`);
  const b64 = m[2]!;
  if (!BASE64.test(b64) || b64.length % 4 !== 0)
    return fail('bad-base64', 'the key is not standard padded base64');
  const spkiDer = Buffer.from(b64, 'base64');
  if (spkiDer.length === 0 || spkiDer.toString('base64') !== b64)
    return fail('bad-base64', 'the key is not canonical base64');
  return { ok: true, spkiDer };
}
