import { randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import QRCode from 'qrcode';

/** RFC 6238 parameters every authenticator app understands. */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Codes one step early or late are accepted, for clock drift. */
const WINDOW = 1;

export function newTotpSecret(): Buffer {
  return randomBytes(20);
}

function totp(secret: Buffer, issuer: string, label: string) {
  return new OTPAuth.TOTP({
    issuer,
    label,
    secret: new OTPAuth.Secret({ buffer: new Uint8Array(secret).buffer }),
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  });
}

/** The secret in base32, for typing into an app by hand. */
export function totpSecretBase32(secret: Buffer): string {
  return new OTPAuth.Secret({ buffer: new Uint8Array(secret).buffer }).base32;
}

/** The otpauth:// URI authenticator apps import (usually from its QR code). */
export function otpauthUri(secret: Buffer, issuer: string, label: string): string {
  return totp(secret, issuer, label).toString();
}

/** The code for a moment (for clients and tests; the server only validates). */
export function totpCode(secret: Buffer, at: Date): string {
  return totp(secret, 'x', 'x').generate({ timestamp: at.getTime() });
}

/** The time step a moment falls in. */
export function totpStep(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

export type TotpMatch = { ok: true; step: number } | { ok: false; reason: 'invalid' | 'replayed' };

/**
 * Checks a code against the secret at `at`. A code whose time step is not later than the last
 * one accepted is a replay: each code works once, and never after a newer one was used.
 */
export function matchTotp(
  secret: Buffer,
  code: string,
  at: Date,
  lastStep: number | null,
): TotpMatch {
  const clean = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(clean)) return { ok: false, reason: 'invalid' };
  const delta = totp(secret, 'x', 'x').validate({
    token: clean,
    timestamp: at.getTime(),
    window: WINDOW,
  });
  if (delta === null) return { ok: false, reason: 'invalid' };
  const step = totpStep(at) + delta;
  if (lastStep !== null && step <= lastStep) return { ok: false, reason: 'replayed' };
  return { ok: true, step };
}

/** A QR code of the URI as an SVG data URL, ready for an <img src>. */
export async function qrCodeDataUrl(text: string): Promise<string> {
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}
