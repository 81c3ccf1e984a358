import { createRequire } from 'node:module';
import type * as Pkcs11Types from 'pkcs11js';
import { KeyStoreUnavailableError } from '../key-store-errors.js';

// pkcs11js is CommonJS whose exports Node's ESM loader cannot list; require it directly.
const require = createRequire(import.meta.url);
/** The pkcs11js module (constants and the PKCS11 class). */
export const pkcs11js = require('pkcs11js') as typeof Pkcs11Types;

export type Handle = Pkcs11Types.Handle;
export type Pkcs11 = Pkcs11Types.PKCS11;

/** An open, logged-in session on the configured token. */
export interface TokenSession {
  p11: Pkcs11;
  session: Handle;
}

function code(err: unknown): number | undefined {
  return err instanceof pkcs11js.Pkcs11Error ? err.code : undefined;
}

/**
 * Loads the module, opens a read-write session on the token with this label, logs in as user,
 * runs `fn`, and closes everything again. One session per operation keeps no module state
 * between calls, so a token that was unplugged and replugged simply works again.
 */
export async function withTokenSession<T>(
  opts: { module: string; tokenLabel: string; pin: string },
  fn: (s: TokenSession) => T | Promise<T>,
): Promise<T> {
  const p11 = new pkcs11js.PKCS11();
  try {
    p11.load(opts.module);
  } catch (err) {
    throw new KeyStoreUnavailableError(
      `cannot load PKCS#11 module ${opts.module}: ${(err as Error).message}`,
    );
  }
  let finalize = true;
  try {
    try {
      p11.C_Initialize();
    } catch (err) {
      if (code(err) !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        throw new KeyStoreUnavailableError(
          `PKCS#11 module ${opts.module} did not initialise: ${(err as Error).message}`,
        );
      }
      finalize = false; // someone else in this process owns the module's lifetime
    }
    const slot = p11
      .C_GetSlotList(true)
      .find((s) => p11.C_GetTokenInfo(s).label.trim() === opts.tokenLabel);
    if (!slot) {
      throw new KeyStoreUnavailableError(
        `no token labelled "${opts.tokenLabel}" in PKCS#11 module ${opts.module}`,
      );
    }
    const session = p11.C_OpenSession(slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
    try {
      try {
        p11.C_Login(session, pkcs11js.CKU_USER, opts.pin);
      } catch (err) {
        if (code(err) !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
          throw new KeyStoreUnavailableError(
            `token "${opts.tokenLabel}" refused the user PIN: ${(err as Error).message}`,
          );
        }
      }
      return await fn({ p11, session });
    } finally {
      try {
        p11.C_CloseSession(session);
      } catch {
        // closing a session of a token that went away cannot fail the operation
      }
    }
  } finally {
    try {
      if (finalize) p11.C_Finalize();
    } finally {
      p11.close();
    }
  }
}

/** Finds objects matching a template. */
export function findObjects(s: TokenSession, template: Pkcs11Types.Template): Handle[] {
  s.p11.C_FindObjectsInit(s.session, template);
  try {
    return s.p11.C_FindObjects(s.session, 16);
  } finally {
    s.p11.C_FindObjectsFinal(s.session);
  }
}

/** Reads attributes as raw buffers, in the order asked. */
export function attributes(s: TokenSession, object: Handle, types: number[]): Buffer[] {
  return s.p11
    .C_GetAttributeValue(
      s.session,
      object,
      types.map((type) => ({ type })),
    )
    .map((a) => a.value as Buffer);
}

/** A CK_BBOOL attribute value. */
export function isTrue(value: Buffer | undefined): boolean {
  return !!value && value.length > 0 && value[0] !== 0;
}

/** A CK_ULONG attribute value (native size and byte order). */
export function ulong(value: Buffer): number {
  return value.length >= 8 ? Number(value.readBigUInt64LE(0)) : value.readUInt32LE(0);
}
