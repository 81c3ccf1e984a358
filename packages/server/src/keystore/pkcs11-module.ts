import { createRequire } from 'node:module';
import type * as Pkcs11js from 'pkcs11js';

const require = createRequire(import.meta.url);

/** The pkcs11js binding (CommonJS, native). Loaded on first use, so software-only servers never load it. */
export function pkcs11js(): typeof Pkcs11js {
  return require('pkcs11js') as typeof Pkcs11js;
}

/** A PKCS#11 library opened and initialised in this process. */
export interface Pkcs11Module {
  readonly p11: Pkcs11js.PKCS11;
  /** Gives the module back; the last user finalises and unloads it. */
  release(): void;
}

/**
 * A PKCS#11 library is initialised once per process (a second C_Initialize fails), so the
 * loaded modules are shared by path and counted; this is the one process-wide registry of the
 * key store. Finalising when the last user leaves also lets a later user see tokens created
 * since (SoftHSM2 reads its token directory at C_Initialize).
 */
const loaded = new Map<string, { p11: Pkcs11js.PKCS11; users: number }>();

/** Opens (or shares) the PKCS#11 library at `path`. The path is operator configuration only. */
export function openPkcs11Module(path: string): Pkcs11Module {
  let entry = loaded.get(path);
  if (!entry) {
    const lib = pkcs11js();
    const p11 = new lib.PKCS11();
    p11.load(path);
    try {
      p11.C_Initialize({ flags: lib.CKF_OS_LOCKING_OK });
    } catch (err) {
      if ((err as { code?: number }).code !== lib.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        p11.close();
        throw err;
      }
    }
    entry = { p11, users: 0 };
    loaded.set(path, entry);
  }
  entry.users++;
  const e = entry;
  let released = false;
  return {
    p11: e.p11,
    release() {
      if (released) return;
      released = true;
      e.users--;
      if (e.users > 0) return;
      loaded.delete(path);
      try {
        e.p11.C_Finalize();
      } finally {
        e.p11.close();
      }
    },
  };
}
