import type { Readable, Writable } from 'node:stream';

/** A stored blob: its name (lowercase hex SHA-256 of the bytes) and size. */
export interface StoredBlob {
  sha256: string;
  size: number;
}

/**
 * Where firmware bytes live, named by their SHA-256 so the same bytes are stored once per
 * instance. Files under the data directory today; a PostgreSQL or S3-compatible store can
 * implement the same interface when the server runs on more than one machine.
 */
export interface FirmwareBlobStore {
  /**
   * Stores a stream while hashing it and returns its digest and size. Nothing is visible under
   * the digest until every byte is written; over `maxBytes` the write stops with
   * PayloadTooLargeError and leaves nothing behind. Storing bytes already present is harmless.
   */
  put(
    instanceId: string,
    source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
    opts?: { maxBytes?: number },
  ): Promise<StoredBlob>;
  /** The size of a stored blob, or undefined when there is none. */
  stat(instanceId: string, sha256: string): Promise<{ size: number } | undefined>;
  /** Reads a blob, or the inclusive byte range of it. NotFoundError when absent. */
  get(
    instanceId: string,
    sha256: string,
    range?: { start: number; end: number },
  ): Promise<Readable>;
  /**
   * Writes the inclusive byte range of a blob to `out` (an HTTP response), honouring its
   * back-pressure, and resolves when every byte is handed over, or quietly when `out` closes
   * first (the client went away). Optional: the download hot path, which reuses its read
   * buffers instead of allocating a stream's; without it, senders pipe `get`.
   */
  send?(
    instanceId: string,
    sha256: string,
    range: { start: number; end: number },
    out: Writable,
  ): Promise<void>;
  /** Removes a blob; removing one that is absent is not an error. */
  delete(instanceId: string, sha256: string): Promise<void>;
}
