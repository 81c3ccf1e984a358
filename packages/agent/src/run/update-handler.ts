import type { SigningBlock } from '@trustlink/protocol';
import type { AgentConfig } from '../config/agent-config-schema.js';
import type { DeviceApiClient } from './device-api-client.js';
import type { RunLog } from './run-log.js';

/** An update the platform offers at check-in (`update` of the status answer). */
export interface UpdateOffer {
  id: string;
  /** Path of the manifest on the device API, e.g. `/device/v1/updates/<id>/manifest`. */
  manifestUrl: string;
}

/** What an update handler gets from the agent. */
export interface UpdateContext {
  config: Readonly<AgentConfig>;
  deviceId: string;
  instanceId: string;
  batchId: string;
  /** The batch's manifest signing key from enrolment (verify manifests with it). */
  signing: SigningBlock | undefined;
  /**
   * The device API over the pinned connection, authenticated with the agent's session:
   * `api.sessionRequest({ method, path, headers?, body? })` for the update routes (answers up
   * to 1 MiB, read whole), `api.download(path, { file, expectedSize, ... })` to stream an image
   * into a file with resume; `problemError(what, res)` (device-api-client.ts) turns a refusal into the
   * error the agent understands (a DeviceRevokedError stops the agent).
   */
  api: DeviceApiClient;
  /** The agent's trusted time (signed time on a device without a clock). */
  now(): Date;
  log: RunLog;
}

/**
 * The seam between the operating mode and the firmware flow: when a check-in reports an update
 * the agent has not handled yet, it calls `handle` (again at later check-ins if it threw or
 * said the update is still pending).
 * Download, verification, installation and reports are the handler's job (the OTA work in
 * `src/update/`); the agent records the outcome in its state for `status`.
 */
export interface UpdateHandler {
  /**
   * `'pending'` when the update is not finished (a download to resume, a reboot to wait for):
   * the agent hands it over again at each check-in until it is.
   */
  handle(update: UpdateOffer, ctx: UpdateContext): Promise<void | 'pending'>;
  /** False for a handler that only notes offers (the state keeps the update `offered`). */
  readonly handlesUpdates?: boolean;
}

/** The default: updates are noted, not handled. */
export function loggingUpdateHandler(): UpdateHandler {
  return {
    handlesUpdates: false,
    async handle(update, ctx) {
      ctx.log.warn('the platform offers an update, but this agent does not handle updates', {
        update: update.id,
        manifest: update.manifestUrl,
      });
    },
  };
}
