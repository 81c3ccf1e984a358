import type { SigningBlock } from '@trustlink/protocol';
import type { AgentConfig } from '../config/agent-config-schema.js';
import type { ImageFetch } from './image-fetch.js';

/**
 * The contract between the agent's daemon (`trustlink-agent run`) and the update code. The
 * daemon defines the same type in run/update-handler.ts; the two are kept identical so either
 * side can be built and tested alone.
 */

/** An update the check-in announced (`update` of GET /device/v1/status). */
export interface AnnouncedUpdate {
  id: string;
  manifestUrl: string;
}

/**
 * An authenticated request on the device API (TLS client certificate or bearer session, the
 * daemon's business). `path` is relative to the platform URL, e.g. `/device/v1/updates/x/image`.
 */
export type DeviceApiRequest = (
  method: string,
  path: string,
  init?: { headers?: Record<string, string>; body?: string | Uint8Array },
) => Promise<Response>;

export interface UpdateLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface UpdateContext {
  request: DeviceApiRequest;
  /**
   * Streams an image into a file with resume (image-fetch.ts): the daemon's session client
   * (`download`), or `fetchImageVia(request)`. Images never pass through memory whole.
   */
  fetchImage: ImageFetch;
  /** The agent's state directory (mode 0700); update state lives in `<stateDir>/update/`. */
  stateDir: string;
  config: AgentConfig;
  logger: UpdateLogger;
}

export interface UpdateHandler {
  handle(update: AnnouncedUpdate, ctx: UpdateContext): Promise<void>;
}

/**
 * What the device knows about itself when it judges a manifest: everything comes from its
 * enrolment answer (instance, batch, the batch's signing key) and its own identity; hardware
 * attributes from the operator's configuration.
 */
export interface UpdateDeviceFacts {
  instanceId: string;
  deviceId: string;
  batchId?: string;
  hardware: Record<string, string>;
  /** The batch's signing key pinned at enrolment; without it no manifest can be trusted. */
  signing: SigningBlock;
}
