import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PayloadTooLargeError } from '../lib/errors.js';
import { createFileBlobStore } from './file-blob-store.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'trustlink-blobs-'));
const store = createFileBlobStore(root);
const I1 = '11111111-1111-4111-8111-111111111111';
const I2 = '22222222-2222-4222-8222-222222222222';
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function* pieces(data: Buffer, size: number) {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
async function read(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const p of s) out.push(p);
  return Buffer.concat(out);
}

describe('file blob store', () => {
  const data = randomBytes(300_000);
  const sha = createHash('sha256').update(data).digest('hex');

  it('ok/a stream is stored under its SHA-256, once', async () => {
    expect(await store.put(I1, pieces(data, 7000))).toEqual({ sha256: sha, size: data.length });
    expect(await store.put(I1, pieces(data, 65536))).toEqual({ sha256: sha, size: data.length });
    expect(readdirSync(path.join(root, I1))).toEqual([sha]);
    expect(await store.stat(I1, sha)).toEqual({ size: data.length });
    expect(await read(await store.get(I1, sha))).toEqual(data);
  });

  it('ok/a range is read inclusively', async () => {
    expect(await read(await store.get(I1, sha, { start: 10, end: 19 }))).toEqual(
      data.subarray(10, 20),
    );
  });

  it('ok/instances do not share blobs', async () => {
    expect(await store.stat(I2, sha)).toBeUndefined();
    await expect(store.get(I2, sha)).rejects.toThrow(/no blob/);
  });

  it('fail/over the limit nothing is left, not even a temporary file', async () => {
    const big = randomBytes(10_000);
    await expect(store.put(I2, pieces(big, 1000), { maxBytes: 9_999 })).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    expect(readdirSync(path.join(root, I2))).toEqual([]);
  });

  it('fail/a source that breaks off leaves nothing', async () => {
    async function* broken() {
      yield Buffer.alloc(100);
      throw new Error('aborted');
    }
    await expect(store.put(I2, broken())).rejects.toThrow('aborted');
    expect(readdirSync(path.join(root, I2))).toEqual([]);
  });

  it('fail/names that are not digests never reach the file system', async () => {
    expect(await store.stat(I1, '../x')).toBeUndefined();
    await expect(store.get(I1, `../${sha}`)).rejects.toThrow(/no blob/);
    await expect(store.put('../etc', [Buffer.from('x')])).rejects.toThrow(/instance id/);
  });

  it('ok/delete removes a blob; deleting again is harmless', async () => {
    await store.delete(I1, sha);
    await store.delete(I1, sha);
    expect(await store.stat(I1, sha)).toBeUndefined();
  });

  it('ok/stale temporary files of crashed uploads are removed, fresh ones kept', async () => {
    const old = path.join(root, I1, '.upload-old');
    const fresh = path.join(root, I1, '.upload-fresh');
    writeFileSync(old, 'x');
    writeFileSync(fresh, 'y');
    const past = new Date(Date.now() - 2 * 3600_000);
    utimesSync(old, past, past);
    expect(await store.removeStaleUploads(3600_000)).toBe(1);
    expect(readdirSync(path.join(root, I1)).sort()).toEqual(['.upload-fresh']);
  });
});
