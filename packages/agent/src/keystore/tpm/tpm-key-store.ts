import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TpmKeyStoreConfig } from '../../config/agent-config-schema.js';
import { createFileExclusive, ensurePrivateDir } from '../../state/atomic-file.js';
import { KeyStoreRefusedError, NoIdentityKeyError } from '../key-store-errors.js';
import type {
  IdentityKeyResult,
  IdentityKeyStore,
  IdentityPublicKey,
  SignatureScheme,
} from '../key-store-types.js';
import { assertSchemeFits, digestFor, verifySignature } from '../signature-fns.js';
import { canonicalPublicKey } from '../spki-fns.js';
import {
  IDENTITY_KEY_ATTRIBUTES,
  normaliseHandle,
  parseHandleList,
  parseObjectAttributes,
  PRIMARY_ARGS,
  REQUIRED_ATTRIBUTES,
  signatureFromTss,
  tpmAlgorithm,
  tpmSignArgs,
} from './tpm-fns.js';
import { Tpm2ToolError, type Tpm2Runner } from './tpm2-runner.js';

export type TpmKeyStoreOptions = Omit<TpmKeyStoreConfig, 'type' | 'tcti'> & {
  /** Directory for the TPM-wrapped key blob (keyLocation "blob"): the agent's state dir. */
  blobDir: string;
};

/** File of the TPM-wrapped key: public and private parts, only loadable by this TPM. */
export const TPM_BLOB_FILE = 'tpm-identity-blob.json';
const TPM_RC_NV_DEFINED = 0x14c;

interface KeyBlob {
  version: 1;
  parent: string;
  public: string;
  private: string;
}

/** A scratch directory for one sequence of tpm2-tools calls (context files, digests). */
type Work = { dir: string; file(name: string): string };

/**
 * Identity key in a TPM 2.0, driven through tpm2-tools. The key is created inside the TPM
 * with fixedtpm|fixedparent|sensitivedataorigin and is either made persistent at a handle or
 * kept as a TPM-wrapped blob; its private part never exists outside the TPM.
 *
 * Without a resource manager (swtpm, /dev/tpm0) each tool leaves its objects loaded and the
 * TPM runs out of slots after a few calls, so every step is followed by flushing transient
 * objects. With /dev/tpmrm0 the flush is a harmless no-op.
 */
export function createTpmKeyStore(opts: TpmKeyStoreOptions, runner: Tpm2Runner): IdentityKeyStore {
  const handle = normaliseHandle(opts.persistentHandle);
  const blobFile = path.join(opts.blobDir, TPM_BLOB_FILE);
  let cachedPublic: IdentityPublicKey | undefined;

  async function step(tool: string, args: string[]): Promise<string> {
    try {
      return await runner.run(tool, args);
    } finally {
      await runner.run('tpm2_flushcontext', ['-t']);
    }
  }

  async function withTpm<T>(fn: (w: Work) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(path.join(tmpdir(), 'trustlink-tpm-'));
    const w = { dir, file: (name: string) => path.join(dir, name) };
    try {
      // Leftovers of an interrupted run would fill the TPM's few object slots.
      await runner.run('tpm2_flushcontext', ['-t']);
      return await fn(w);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Writes a password file (first line of the configured file) for `-P file:...`. */
  async function authArgs(w: Work, file: string | undefined, name: string): Promise<string[]> {
    if (!file) return [];
    const secret = readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '';
    const p = w.file(`${name}.auth`);
    await writeFile(p, secret, { mode: 0o600 });
    return ['-P', `file:${p}`];
  }

  /** The parent as a tpm2-tools context: a persistent handle, or a primary made now. */
  async function parentContext(w: Work): Promise<string> {
    if (opts.parent !== 'owner' && opts.parent !== 'endorsement')
      return normaliseHandle(opts.parent);
    const hierarchy = opts.parent === 'owner' ? 'o' : 'e';
    const auth = await authArgs(
      w,
      opts.parent === 'owner' ? opts.ownerAuthFile : opts.endorsementAuthFile,
      'hierarchy',
    );
    await step('tpm2_createprimary', [
      '-C',
      hierarchy,
      ...PRIMARY_ARGS,
      ...auth,
      '-c',
      w.file('primary.ctx'),
      '-Q',
    ]);
    return w.file('primary.ctx');
  }

  /** Reads the public key of a loaded or persistent object and checks its attributes. */
  async function readKey(w: Work, context: string, where: string): Promise<IdentityPublicKey> {
    const out = await step('tpm2_readpublic', [
      '-c',
      context,
      '-f',
      'der',
      '-o',
      w.file('pub.der'),
    ]);
    const attributes = parseObjectAttributes(out);
    const missing = REQUIRED_ATTRIBUTES.filter((a) => !attributes.includes(a));
    if (missing.length || attributes.includes('restricted')) {
      throw new KeyStoreRefusedError(
        `${where} holds a key with attributes ${attributes.join('|') || '(none)'}; the identity key needs ${IDENTITY_KEY_ATTRIBUTES} and not restricted: refusing to use or replace it`,
      );
    }
    try {
      cachedPublic = canonicalPublicKey(await readFile(w.file('pub.der')));
    } catch (err) {
      throw new KeyStoreRefusedError(`${where}: ${(err as Error).message}`);
    }
    return cachedPublic;
  }

  async function persistentExists(): Promise<boolean> {
    const out = await runner.run('tpm2_getcap', ['handles-persistent']);
    return parseHandleList(out).includes(handle);
  }

  function readBlob(): KeyBlob | null {
    let text: string;
    try {
      text = readFileSync(blobFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let blob: KeyBlob;
    try {
      blob = JSON.parse(text) as KeyBlob;
    } catch {
      throw new KeyStoreRefusedError(`${blobFile} is not a TPM key blob the agent wrote`);
    }
    if (blob?.version !== 1 || !blob.public || !blob.private) {
      throw new KeyStoreRefusedError(`${blobFile} is not a TPM key blob the agent wrote`);
    }
    return blob;
  }

  /** Loads the blob under its parent; returns the context of the loaded key. */
  async function loadBlob(w: Work, blob: KeyBlob): Promise<string> {
    if (blob.parent !== opts.parent) {
      throw new KeyStoreRefusedError(
        `${blobFile} was made under parent ${blob.parent}, but keyStore.parent is ${opts.parent}`,
      );
    }
    await writeFile(w.file('key.pub'), Buffer.from(blob.public, 'base64'));
    await writeFile(w.file('key.priv'), Buffer.from(blob.private, 'base64'));
    const parent = await parentContext(w);
    try {
      await step('tpm2_load', [
        '-C',
        parent,
        '-u',
        w.file('key.pub'),
        '-r',
        w.file('key.priv'),
        '-c',
        w.file('key.ctx'),
        '-Q',
      ]);
    } catch (err) {
      if (!(err instanceof Tpm2ToolError)) throw err;
      throw new KeyStoreRefusedError(
        `this TPM cannot load the key blob ${blobFile} (${err.detail}): it was made by another TPM or under another parent, or the TPM was cleared`,
      );
    }
    return w.file('key.ctx');
  }

  /** The key's context for signing or reading, or null when there is no key. */
  async function keyContext(w: Work): Promise<{ context: string; where: string } | null> {
    if (opts.keyLocation === 'persistent') {
      return (await persistentExists())
        ? { context: handle, where: `persistent handle ${handle}` }
        : null;
    }
    const blob = readBlob();
    return blob ? { context: await loadBlob(w, blob), where: `key blob ${blobFile}` } : null;
  }

  async function createKey(w: Work): Promise<{ key: IdentityPublicKey; created: boolean }> {
    const parent = await parentContext(w);
    await step('tpm2_create', [
      '-C',
      parent,
      '-G',
      tpmAlgorithm(opts.keyType),
      '-a',
      IDENTITY_KEY_ATTRIBUTES,
      '-u',
      w.file('key.pub'),
      '-r',
      w.file('key.priv'),
      '-c',
      w.file('key.ctx'),
      '-Q',
    ]);
    if (opts.keyLocation === 'persistent') {
      const auth = await authArgs(w, opts.ownerAuthFile, 'owner');
      try {
        await step('tpm2_evictcontrol', ['-C', 'o', '-c', w.file('key.ctx'), ...auth, handle]);
      } catch (err) {
        // Another run persisted a key at the handle meanwhile: that key wins, never ours.
        if (err instanceof Tpm2ToolError && ((err.rc ?? 0) & 0xfff) === TPM_RC_NV_DEFINED) {
          return { key: await readKey(w, handle, `persistent handle ${handle}`), created: false };
        }
        throw err;
      }
      return { key: await readKey(w, handle, `persistent handle ${handle}`), created: true };
    }
    const key = await readKey(w, w.file('key.ctx'), 'new key');
    const blob: KeyBlob = {
      version: 1,
      parent: opts.parent,
      public: (await readFile(w.file('key.pub'))).toString('base64'),
      private: (await readFile(w.file('key.priv'))).toString('base64'),
    };
    ensurePrivateDir(opts.blobDir);
    if (!createFileExclusive(blobFile, JSON.stringify(blob, null, 2) + '\n', 0o600)) {
      const existing = await keyContext(w);
      return { key: await readKey(w, existing!.context, existing!.where), created: false };
    }
    return { key, created: true };
  }

  return {
    type: 'tpm',
    getOrCreateIdentityKey(): Promise<IdentityKeyResult> {
      return withTpm(async (w) => {
        const existing = await keyContext(w);
        if (existing)
          return { ...(await readKey(w, existing.context, existing.where)), created: false };
        const { key, created } = await createKey(w);
        return { ...key, created };
      });
    },
    publicKey() {
      return withTpm(async (w) => {
        const existing = await keyContext(w);
        return existing ? readKey(w, existing.context, existing.where) : null;
      });
    },
    sign(data: Buffer, scheme: SignatureScheme): Promise<Buffer> {
      return withTpm(async (w) => {
        const existing = await keyContext(w);
        if (!existing) throw new NoIdentityKeyError();
        const pub = cachedPublic ?? (await readKey(w, existing.context, existing.where));
        assertSchemeFits(scheme, pub.keyType);
        await writeFile(w.file('digest.bin'), digestFor(scheme, data));
        await step('tpm2_sign', [
          '-c',
          existing.context,
          ...tpmSignArgs(scheme),
          '-d',
          '-f',
          'tss',
          '-o',
          w.file('sig.tss'),
          w.file('digest.bin'),
        ]);
        const signature = signatureFromTss(await readFile(w.file('sig.tss')));
        if (!verifySignature(pub.spkiDer, data, scheme, signature)) {
          throw new Error(
            `the TPM's ${scheme} signature does not verify against the identity key${scheme === 'rsa-pss-sha256' ? ' (does this TPM use a PSS salt other than 32 bytes?)' : ''}`,
          );
        }
        return signature;
      });
    },
    describe() {
      const where =
        opts.keyLocation === 'persistent' ? `persistent handle ${handle}` : `key blob ${blobFile}`;
      return {
        summary: `TPM 2.0 (${runner.tcti}), ${where}, parent ${opts.parent}`,
        reference: {
          tcti: runner.tcti,
          keyLocation: opts.keyLocation,
          ...(opts.keyLocation === 'persistent' ? { persistentHandle: handle } : { blobFile }),
          parent: opts.parent,
        },
      };
    },
  };
}
