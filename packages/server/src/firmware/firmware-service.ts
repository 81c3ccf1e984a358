import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { AuditService } from '../audit/audit-service.js';
import type { AuditContext } from '../audit/audit-types.js';
import { recordChange } from '../audit/record-change.js';
import type { Db } from '../db/database.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/db-errors.js';
import {
  BadRequestError,
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
} from '../lib/errors.js';
import type { KeyedLock } from '../lib/keyed-lock.js';
import { createUsageRegistry } from '../lib/usage-registry.js';
import type { FirmwareBlobStore, StoredBlob } from './blob-store.js';
import type { AttributeFilter } from './firmware-fns.js';
import type { FirmwareRepo, FirmwareRow } from './firmware-repo.js';
import { ESP32_MAX_IMAGE_BYTES } from './firmware-signing.js';
import type { Firmware, FirmwareEdit, FirmwareUploadInput } from './firmware-types.js';
import type { FirmwareUpdateRepo } from './firmware-update-repo.js';
import { parseIntelHexStream } from './intel-hex-fns.js';

/** What the firmware catalogue needs from the fleet and the PKI. */
export interface FirmwareCatalogRefs {
  /** Batches with firmware assigned: id, name, firmware. */
  assignments(instanceId: string): Promise<{ id: string; name: string; firmwareId: string }[]>;
  /** Names of signing keys by id (deleted keys are absent). */
  signingKeyNames(instanceId: string): Promise<Map<string, string>>;
}

export interface FirmwareServiceDeps {
  db: Db;
  repo: FirmwareRepo;
  updates: FirmwareUpdateRepo;
  blobs: FirmwareBlobStore;
  lock: KeyedLock;
  audit: AuditService;
  refs: FirmwareCatalogRefs;
  /** Largest upload body, and largest image. */
  maxBytes: number;
  now?: () => Date;
}

type Source = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

/** Passes a stream on and stops it with 413 once more than `max` bytes went through. */
async function* limited(source: Source, max: number): AsyncGenerator<Uint8Array | string> {
  let n = 0;
  for await (const piece of source) {
    n += piece.length;
    if (n > max)
      throw new PayloadTooLargeError(`the upload is larger than the limit of ${max} bytes`);
    yield piece;
  }
}

/**
 * The firmware catalogue: upload (a binary or Intel HEX, streamed into the blob store), list
 * with attribute filters, edit, delete, download. Images are stored once per instance by
 * digest; a blob is removed when nothing refers to it any more.
 */
export function createFirmwareService(deps: FirmwareServiceDeps) {
  const { db, repo, updates, blobs, lock, audit, refs, maxBytes } = deps;
  const now = deps.now ?? (() => new Date());
  // Domains created later (provisioning tasks) register what of theirs uses a firmware.
  const usage = createUsageRegistry();

  /** Removes a blob nothing refers to; serialised with uploads of the same digest. */
  async function release(instanceId: string, sha256: string): Promise<void> {
    await lock(sha256, async () => {
      if (!(await repo.blobReferenced(instanceId, sha256))) await blobs.delete(instanceId, sha256);
    });
  }

  async function load(instanceId: string, id: string): Promise<FirmwareRow> {
    const f = await repo.find(instanceId, id);
    if (!f) throw new NotFoundError(`firmware ${id} not found`);
    return f;
  }

  async function views(instanceId: string, rows: FirmwareRow[]): Promise<Firmware[]> {
    const [signatures, names, assignments] = await Promise.all([
      repo.signaturesOf(
        instanceId,
        rows.map((r) => r.id),
      ),
      refs.signingKeyNames(instanceId),
      refs.assignments(instanceId),
    ]);
    return rows.map((r) => ({
      ...r,
      signatures: signatures
        .filter((s) => s.firmwareId === r.id)
        .map((s) => ({
          id: s.id,
          keyId: s.keyId,
          keyName: names.get(s.keyId) ?? null,
          kind: s.kind,
          size: s.size,
          createdAt: s.createdAt,
        })),
      batches: assignments
        .filter((b) => b.firmwareId === r.id)
        .map((b) => ({ id: b.id, name: b.name })),
    }));
  }

  async function nameFree(instanceId: string, name: string, selfId?: string) {
    const same = await repo.findByName(instanceId, name);
    if (same && same.id !== selfId)
      throw new ConflictError(`firmware named "${name}" already exists`, 'name-taken');
  }

  /** Stores the upload's image: the bytes as sent, or the binary an Intel HEX text describes. */
  async function store(
    instanceId: string,
    input: FirmwareUploadInput,
    body: Source,
  ): Promise<StoredBlob & { baseAddress: number | null }> {
    if (input.input === 'binary') {
      return { ...(await blobs.put(instanceId, body, { maxBytes })), baseAddress: null };
    }
    const parsed = await parseIntelHexStream(limited(body, maxBytes), { maxImageBytes: maxBytes });
    if (!parsed.ok) {
      throw new BadRequestError(
        `Intel HEX line ${parsed.line}: ${parsed.reason}; nothing was stored`,
        { line: parsed.line, reason: parsed.reason },
        'intel-hex-invalid',
      );
    }
    const blob = await blobs.put(instanceId, [parsed.image.data]);
    return { ...blob, baseAddress: parsed.image.baseAddress };
  }

  return {
    /** Where other domains register their uses of a firmware (a delete is refused while any). */
    usage,
    /**
     * Uploads an image from a stream. Nothing is recorded unless the whole image arrived and
     * passed its checks; a refused upload leaves no blob behind.
     */
    async upload(
      instanceId: string,
      input: FirmwareUploadInput,
      body: Source,
      ctx: AuditContext,
    ): Promise<Firmware> {
      // Checked before the body is read, so a taken name costs no transfer.
      await nameFree(instanceId, input.name);
      const blob = await store(instanceId, input, body);
      const id = randomUUID();
      try {
        if (blob.size === 0)
          throw new BadRequestError('the image is empty', undefined, 'empty-image');
        if (input.format === 'esp32-sbv2' && blob.size > ESP32_MAX_IMAGE_BYTES) {
          throw new BadRequestError(
            `ESP32 images are at most ${ESP32_MAX_IMAGE_BYTES} bytes; this one has ${blob.size}`,
          );
        }
        const t = now().toISOString();
        const row: FirmwareRow = {
          id,
          name: input.name,
          description: input.description,
          version: input.version,
          securityVersion: input.securityVersion,
          format: input.format,
          input: input.input,
          baseAddress: blob.baseAddress,
          size: blob.size,
          sha256: blob.sha256,
          attributes: input.attributes,
          createdBy: ctx.actor.name,
          createdAt: t,
          updatedAt: t,
        };
        await lock(blob.sha256, async () => {
          // A delete of the last record with these bytes may have removed the file meanwhile.
          if (!(await blobs.stat(instanceId, blob.sha256))) {
            throw new ConflictError(
              'the image was removed while it was stored; upload it again',
              'retry',
            );
          }
          await db.kysely.transaction().execute(async (tx) => {
            await repo.insert(instanceId, row, tx);
            await recordChange(audit, tx, {
              instanceId,
              ctx,
              action: 'firmware.upload',
              target: { type: 'firmware', id, name: row.name },
              details: {
                version: row.version,
                securityVersion: row.securityVersion,
                format: row.format,
                input: row.input,
                size: row.size,
                sha256: row.sha256,
                attributes: row.attributes,
              },
            });
          });
        });
      } catch (err) {
        await release(instanceId, blob.sha256);
        if (isUniqueViolation(err))
          throw new ConflictError(`firmware named "${input.name}" already exists`, 'name-taken');
        throw err;
      }
      return this.get(instanceId, id);
    },

    /** Firmware of the instance by name, narrowed by an attribute filter when given. */
    async list(instanceId: string, filter?: AttributeFilter): Promise<Firmware[]> {
      return views(instanceId, await repo.list(instanceId, filter));
    },

    async get(instanceId: string, id: string): Promise<Firmware> {
      const [v] = await views(instanceId, [await load(instanceId, id)]);
      return v!;
    },

    /** The stored record (for signing and rollouts). */
    find: (instanceId: string, id: string) => repo.find(instanceId, id),

    /** Changes name, description or attributes; the image and its versions never change. */
    async edit(
      instanceId: string,
      id: string,
      change: FirmwareEdit,
      ctx: AuditContext,
    ): Promise<Firmware> {
      const before = await load(instanceId, id);
      if (change.name !== undefined) await nameFree(instanceId, change.name, id);
      try {
        await db.kysely.transaction().execute(async (tx) => {
          await repo.update(instanceId, id, change, now().toISOString(), tx);
          await recordChange(audit, tx, {
            instanceId,
            ctx,
            action: 'firmware.edit',
            target: { type: 'firmware', id, name: change.name ?? before.name },
            details: { change },
          });
        });
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ConflictError(`firmware named "${change.name}" already exists`, 'name-taken');
        throw err;
      }
      return this.get(instanceId, id);
    },

    /** Deletes firmware no batch has assigned, with its signatures and past rollouts. */
    async remove(instanceId: string, id: string, ctx: AuditContext): Promise<void> {
      const f = await load(instanceId, id);
      const inUse = () =>
        new ConflictError(
          `firmware "${f.name}" is assigned to a batch; assign other firmware there first`,
          'in-use',
        );
      const users = (await refs.assignments(instanceId)).filter((b) => b.firmwareId === id);
      if (users.length) throw inUse();
      const others = await usage.usesOf(instanceId, id);
      if (others.length)
        throw new ConflictError(
          `firmware "${f.name}" is used by ${others.join(', ')}; change or delete that first`,
          'in-use',
        );
      const signatures = await repo.signaturesOf(instanceId, [id]);
      try {
        await db.kysely.transaction().execute(async (tx) => {
          await updates.deleteOfFirmware(instanceId, id, tx);
          await repo.delete(instanceId, id, tx);
          await recordChange(audit, tx, {
            instanceId,
            ctx,
            action: 'firmware.delete',
            target: { type: 'firmware', id, name: f.name },
            details: { sha256: f.sha256, signatures: signatures.length },
          });
        });
      } catch (err) {
        // An assignment committed between the check and the delete.
        if (isForeignKeyViolation(err)) throw inUse();
        throw err;
      }
      for (const sha of new Set([f.sha256, ...signatures.flatMap((s) => s.blobSha256 ?? [])]))
        await release(instanceId, sha);
    },

    /** The stored image (or a range of it) and its facts, for download. */
    async image(
      instanceId: string,
      id: string,
    ): Promise<{
      sha256: string;
      size: number;
      open(range?: { start: number; end: number }): Promise<Readable>;
    }> {
      const f = await load(instanceId, id);
      return { sha256: f.sha256, size: f.size, open: (r) => blobs.get(instanceId, f.sha256, r) };
    },

    /** A stored signature file (signed ESP32 image, CMS .p7s) of a firmware. */
    async signatureFile(instanceId: string, id: string, signatureId: string) {
      await load(instanceId, id);
      const s = (await repo.signaturesOf(instanceId, [id])).find((x) => x.id === signatureId);
      if (!s || !s.blobSha256 || s.size === null)
        throw new NotFoundError(`signature ${signatureId} of firmware ${id} has no file`);
      const sha = s.blobSha256;
      return {
        kind: s.kind,
        sha256: sha,
        size: s.size,
        open: (r?: { start: number; end: number }) => blobs.get(instanceId, sha, r),
      };
    },
    release,
  };
}
export type FirmwareService = ReturnType<typeof createFirmwareService>;
