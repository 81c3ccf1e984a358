import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config.js';

/** One master key: 32 bytes and the id derived from it (stored in every blob it seals). */
export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

/** The current master key and any older ones still needed to open blobs during a rotation. */
export interface MasterKeyRing {
  readonly current: MasterKey;
  byId(id: string): MasterKey | undefined;
  /** Every key, current first. */
  readonly all: readonly MasterKey[];
  /** Where the ring came from, for messages (never the key). */
  readonly source: string;
}

/** Derives a key's public id: enough to tell keys apart, nothing about the key. */
export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update('trustlink master key id\0').update(key).digest('hex').slice(0, 16);
}

export function toMasterKey(key: Buffer): MasterKey {
  if (key.length !== 32) throw new ConfigError('master key: must be 32 bytes');
  return { id: masterKeyId(key), key };
}

export function makeRing(keys: MasterKey[], source: string): MasterKeyRing {
  const [current] = keys;
  if (!current) throw new ConfigError(`master key: ${source} holds no key`);
  const map = new Map(keys.map((k) => [k.id, k]));
  return { current, byId: (id) => map.get(id), all: keys, source };
}

export function generateMasterKey(): MasterKey {
  return toMasterKey(randomBytes(32));
}

/**
 * The key file holds one base64 key per line, current first; older keys follow only while a
 * rotation is under way. Lines starting with # are comments.
 */
export function readMasterKeyFile(file: string): MasterKeyRing {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`master key: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const keys = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l, i) => {
      const raw = Buffer.from(l, 'base64');
      if (raw.length !== 32) throw new ConfigError(`master key: line ${i + 1} of ${file} is not 32 bytes of base64`);
      return toMasterKey(raw);
    });
  return makeRing(keys, file);
}

/**
 * Writes the key file atomically (temporary file, fsync, rename) with mode 0600, in a 0700
 * directory: a crash leaves either the old file or the new one, never half of one.
 */
export function writeMasterKeyFile(file: string, keys: MasterKey[]): void {
  const dir = path.dirname(path.resolve(file));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  const body =
    '# Trustlink master key: encrypts private keys and secrets at rest. Keep it apart from the\n' +
    '# data directory and its backups. Losing it loses every key the instance holds.\n' +
    keys.map((k) => k.key.toString('base64')).join('\n') +
    '\n';
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, body);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

export function removeMasterKeyFile(file: string): void {
  rmSync(file, { force: true });
}

export function masterKeyFileExists(file: string): boolean {
  return existsSync(file);
}
