/** Kysely types of firmware images kept in the database (TRUSTLINK_FIRMWARE_STORE=database). */
export interface FirmwareBlobTables {
  /** A complete image: visible only once every chunk of its upload is written. */
  firmware_blobs: {
    instance_id: string;
    sha256: string;
    size: number;
    /** The upload whose chunks hold the bytes. */
    upload_id: string;
    /** Bytes per chunk (the last may be shorter), so a range read finds its first chunk. */
    chunk_size: number;
    created_at: string;
  };
  /** The bytes of uploads, in order; chunks of unfinished uploads are removed. */
  firmware_blob_chunks: {
    instance_id: string;
    upload_id: string;
    seq: number;
    data: Buffer;
    created_at: string;
  };
}
