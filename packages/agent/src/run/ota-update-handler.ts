import { AgentUpdateHandler } from '../update/update-handler.js';
import { readUpdateState } from '../update/update-state.js';
import type { DeviceApiRequest } from '../update/update-types.js';
import type { UpdateContext, UpdateHandler } from './update-handler.js';

/**
 * Joins the daemon to the firmware flow: each update the check-in offers goes to the OTA
 * handler (src/update/), which verifies the manifest with the batch's signing key from
 * enrolment and the hardware attributes of the configuration, streams the image to the state
 * directory with resume over the agent's session (`api.download`), runs the hooks and reports.
 */
export function otaUpdateHandler(): UpdateHandler {
  return {
    handlesUpdates: true,
    async handle(offer, ctx) {
      const { signing } = ctx;
      if (!signing) {
        // The batch had no signing key when this device enrolled, so no manifest can be
        // trusted (the key is pinned at enrolment, never learnt later). Say so to the operator.
        const detail =
          'no signing key was pinned at enrolment (the batch had none then): re-enrol the device to install updates';
        ctx.log.error('update failed', { update: offer.id, detail });
        await ctx.api.sessionRequest({
          method: 'POST',
          path: `/device/v1/updates/${offer.id}/report`,
          headers: { 'content-type': 'application/json' },
          body: Buffer.from(
            JSON.stringify({ status: 'failed', detail, at: ctx.now().toISOString() }),
          ),
        });
        return;
      }
      const ota = new AgentUpdateHandler({
        device: () => ({
          instanceId: ctx.instanceId,
          deviceId: ctx.deviceId,
          batchId: ctx.batchId,
          hardware: { ...ctx.config.hardware },
          signing,
        }),
        now: () => ctx.now(),
      });
      await ota.handle(offer, {
        request: sessionRequestOf(ctx),
        fetchImage: (path, o) => ctx.api.download(path, o),
        stateDir: ctx.config.stateDir,
        config: ctx.config,
        logger: ctx.log,
      });
      // Not decided yet (a download to resume, a reboot to wait for, a platform that did not
      // answer): the agent hands it over again at the next check-in, and the handler goes on
      // where update-state.json says.
      return readUpdateState(ctx.config.stateDir).finished[offer.id] ? undefined : 'pending';
    },
  };
}

/** Manifests and reports: small answers, read whole. Images go through `api.download`. */
function sessionRequestOf(ctx: UpdateContext): DeviceApiRequest {
  return async (method, path, init) => {
    if (method !== 'GET' && method !== 'POST') throw new Error(`unsupported method ${method}`);
    const body = init?.body === undefined ? undefined : Buffer.from(init.body);
    const res = await ctx.api.sessionRequest({
      method,
      path,
      headers: init?.headers ?? {},
      ...(body ? { body } : {}),
    });
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : String(v));
    }
    const noBody = res.status === 204 || res.status === 304;
    return new Response(noBody ? null : res.body, { status: res.status, headers });
  };
}
