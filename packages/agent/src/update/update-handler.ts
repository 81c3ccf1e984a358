import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  fromBase64url,
  opaqueIdSchema,
  verifyManifest,
  type ManifestPayload,
  type UpdateReport,
} from '@trustlink/protocol';
import { ensurePrivateDir, writeFileAtomic } from '../state/atomic-file.js';
import { runHook } from './hook-runner.js';
import { downloadImage } from './image-download.js';
import { hookEnvironment, reportDetail } from './update-fns.js';
import {
  readUpdateState,
  updateDir,
  writeUpdateState,
  type CurrentUpdate,
  type UpdateState,
} from './update-state.js';
import type {
  AnnouncedUpdate,
  UpdateContext,
  UpdateDeviceFacts,
  UpdateHandler,
} from './update-types.js';

export interface AgentUpdateHandlerOptions {
  /** The device's enrolment facts (instance, batch, pinned signing key) and hardware. */
  device: (ctx: UpdateContext) => UpdateDeviceFacts | Promise<UpdateDeviceFacts>;
  /** Trusted time for the manifest's expiry. */
  now?: () => Date;
  /** Identifies the current boot, to tell "activated" from "rebooted into it". */
  bootId?: () => string;
  /** Download attempts per announcement when the connection breaks, and the pause between. */
  downloadAttempts?: number;
  backoffMs?: (attempt: number) => number;
}

const linuxBootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

/** Files of one update in `<stateDir>/update/`; ids are checked before they name a file. */
function filesOf(stateDir: string, id: string) {
  const dir = updateDir(stateDir);
  return {
    image: path.join(dir, `${id}.img`),
    manifest: path.join(dir, `${id}.manifest.json`),
    manifestJws: path.join(dir, `${id}.manifest.jws`),
  };
}

/**
 * Installs the updates the check-in announces: manifest verified with the batch's pinned key
 * (expiry, instance, batch or device, hardware, anti-rollback), image downloaded with resume and
 * checked against the manifest, then the operator's hooks (docs/firmware.md, "Installing on
 * the device"). Every step is persisted before it runs and reported to the platform, so a crash
 * or reboot continues where it stopped; the security version is committed only once the new
 * image is confirmed.
 */
export class AgentUpdateHandler implements UpdateHandler {
  private readonly now: () => Date;
  private readonly bootId: () => string;

  constructor(private readonly options: AgentUpdateHandlerOptions) {
    this.now = options.now ?? (() => new Date());
    this.bootId = options.bootId ?? linuxBootId;
  }

  async handle(update: AnnouncedUpdate, ctx: UpdateContext): Promise<void> {
    const id = opaqueIdSchema.safeParse(update.id);
    // The URL is the server's, but it names files here and requests there: only the one form.
    if (!id.success || update.manifestUrl !== `/device/v1/updates/${update.id}/manifest`) {
      ctx.logger.error('update announcement refused: malformed id or manifest URL', { update });
      return;
    }
    let state = readUpdateState(ctx.stateDir);
    const done = state.finished[update.id];
    if (done) {
      if (!done.reported) await this.resendOutcome(update.id, ctx);
      return;
    }
    if (state.current && state.current.updateId !== update.id) {
      if (state.current.phase === 'activating') {
        // The device may be running that image already: settle it before starting another.
        await this.confirmStep(state, ctx);
        state = readUpdateState(ctx.stateDir);
      } else {
        ctx.logger.info('update superseded', { updateId: state.current.updateId });
        this.removeFiles(ctx.stateDir, state.current.updateId);
        state = { ...state, current: undefined };
        writeUpdateState(ctx.stateDir, state);
      }
    }
    try {
      if (state.current?.updateId === update.id && state.current.phase === 'activating') {
        return await this.confirmStep(state, ctx);
      }
      await this.installStep(update, state, ctx);
    } catch (err) {
      // The platform or the link failed (not the update): the state says where to go on from,
      // and the next announcement does.
      ctx.logger.warn('update step interrupted; continuing at the next check-in', {
        updateId: update.id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  private async installStep(update: AnnouncedUpdate, state: UpdateState, ctx: UpdateContext) {
    const { logger } = ctx;
    const res = await ctx.request('GET', update.manifestUrl, {
      headers: { accept: 'application/jose' },
    });
    if (res.status !== 200) {
      logger.warn('manifest not available; trying at the next check-in', { status: res.status });
      await res.body?.cancel().catch(() => undefined);
      return;
    }
    const jws = (await res.text()).trim();
    const facts = await this.options.device(ctx);
    const verified = verifyManifest(jws, {
      publicKeySpki: fromBase64url(facts.signing.publicKey) ?? new Uint8Array(),
      expected: {
        instanceId: facts.instanceId,
        deviceId: facts.deviceId,
        ...(facts.batchId !== undefined ? { batchId: facts.batchId } : {}),
        hardware: facts.hardware,
        installedSecurityVersion: state.securityVersion,
        now: this.now(),
        kid: facts.signing.keyId,
      },
    });
    if (!verified.ok) {
      return this.finish(
        ctx,
        update.id,
        'failed',
        `manifest refused: ${verified.reason}: ${verified.detail}`,
      );
    }
    const m = verified.manifest;
    const files = filesOf(ctx.stateDir, update.id);
    let current: CurrentUpdate;
    if (state.current?.updateId === update.id && state.current.sha256 === m.sha256) {
      // The same update after a restart: keep the partial image and its ETag.
      current = { ...state.current, manifestJws: jws, phase: 'downloading' };
    } else {
      rmSync(files.image, { force: true });
      current = {
        updateId: update.id,
        phase: 'downloading',
        manifestJws: jws,
        securityVersion: m.securityVersion,
        version: m.version,
        size: m.size,
        sha256: m.sha256,
      };
    }
    state = { ...state, current };
    writeUpdateState(ctx.stateDir, state);
    await this.report(ctx, update.id, { status: 'downloading' });

    const downloaded = await downloadImage({
      fetch: ctx.fetchImage,
      path: `/device/v1/updates/${update.id}/image`,
      file: files.image,
      expected: { size: m.size, sha256: m.sha256 },
      etag: current.etag,
      saveEtag: (etag) => {
        current = { ...current, etag };
        state = { ...state, current };
        writeUpdateState(ctx.stateDir, state);
      },
      logger,
      ...(this.options.downloadAttempts ? { attempts: this.options.downloadAttempts } : {}),
      ...(this.options.backoffMs ? { backoffMs: this.options.backoffMs } : {}),
    });
    if (!downloaded.ok) {
      if (downloaded.final)
        return this.finish(ctx, update.id, 'failed', `image refused: ${downloaded.reason}`);
      logger.warn('image download incomplete; resuming at the next check-in', {
        reason: downloaded.reason,
      });
      return;
    }

    writeFileAtomic(files.manifest, JSON.stringify(m, null, 2) + '\n');
    writeFileAtomic(files.manifestJws, jws + '\n');
    state = { ...state, current: { ...current, phase: 'installing' } };
    writeUpdateState(ctx.stateDir, state);
    await this.report(ctx, update.id, { status: 'installing' });
    const hooks = ctx.config.hooks;
    if (!hooks.install) {
      return this.finish(ctx, update.id, 'failed', 'no install hook is configured');
    }
    const installed = await runHook(
      'install',
      hooks.install,
      this.env('install', update.id, m, ctx),
      hooks.timeoutSeconds,
    );
    if (!installed.ok) return this.finish(ctx, update.id, 'failed', installed.reason);

    state = {
      ...state,
      current: { ...state.current!, phase: 'activating', activatedBootId: this.bootId() },
    };
    writeUpdateState(ctx.stateDir, state);
    if (hooks.activate) {
      logger.info('activating the installed image', { updateId: update.id });
      const activated = await runHook(
        'activate',
        hooks.activate,
        this.env('activate', update.id, m, ctx),
        hooks.timeoutSeconds,
      );
      if (!activated.ok) return this.finish(ctx, update.id, 'failed', activated.reason);
      // Usually the hook reboots and this process never gets here. If it only switched the
      // boot slot, the confirm step waits for the next boot.
      logger.info('image activated; it is confirmed after the next boot', {
        updateId: update.id,
      });
      return;
    }
    return this.confirmStep(state, ctx);
  }

  /** After the reboot into the new image (or at once without an activate hook): confirm, commit. */
  private async confirmStep(state: UpdateState, ctx: UpdateContext): Promise<void> {
    const current = state.current!;
    const hooks = ctx.config.hooks;
    if (hooks.activate && current.activatedBootId === this.bootId()) {
      ctx.logger.info('waiting for the reboot into the new image', { updateId: current.updateId });
      return;
    }
    if (hooks.confirm) {
      const m = JSON.parse(
        readFileSync(filesOf(ctx.stateDir, current.updateId).manifest, 'utf8'),
      ) as ManifestPayload;
      const confirmed = await runHook(
        'confirm',
        hooks.confirm,
        this.env('confirm', current.updateId, m, ctx),
        hooks.timeoutSeconds,
      );
      if (!confirmed.ok) {
        // Not committed: the security version stays, and the boot loader's fallback (or the
        // hook itself) returns the device to the previous image.
        return this.finish(ctx, current.updateId, 'failed', `not confirmed: ${confirmed.reason}`);
      }
    }
    return this.finish(ctx, current.updateId, 'installed', undefined, current.securityVersion);
  }

  private env(
    step: 'install' | 'activate' | 'confirm',
    id: string,
    m: ManifestPayload,
    ctx: UpdateContext,
  ) {
    const f = filesOf(ctx.stateDir, id);
    return hookEnvironment(
      step,
      { id, imageFile: f.image, manifestFile: f.manifest, manifestJwsFile: f.manifestJws },
      m,
      ctx.stateDir,
    );
  }

  /**
   * Records the outcome (and, for an installed image, the new security version) in one atomic
   * write, removes the update's files, then tells the server.
   */
  private async finish(
    ctx: UpdateContext,
    id: string,
    status: 'installed' | 'failed',
    detail?: string,
    securityVersion?: number,
  ): Promise<void> {
    const state = readUpdateState(ctx.stateDir);
    const at = this.now().toISOString();
    const next: UpdateState = {
      ...state,
      securityVersion: Math.max(state.securityVersion, securityVersion ?? 0),
      current: state.current?.updateId === id ? undefined : state.current,
      finished: {
        ...state.finished,
        [id]: {
          status,
          ...(detail !== undefined ? { detail: reportDetail(detail) } : {}),
          at,
          reported: false,
        },
      },
    };
    writeUpdateState(ctx.stateDir, next);
    this.removeFiles(ctx.stateDir, id);
    if (status === 'failed') ctx.logger.error('update failed', { updateId: id, detail });
    else ctx.logger.info('update installed', { updateId: id, securityVersion });
    await this.resendOutcome(id, ctx);
  }

  private async resendOutcome(id: string, ctx: UpdateContext): Promise<void> {
    const state = readUpdateState(ctx.stateDir);
    const f = state.finished[id];
    if (!f) return;
    const sent = await this.report(ctx, id, {
      status: f.status,
      ...(f.detail !== undefined ? { detail: f.detail } : {}),
      at: f.at,
    });
    if (sent) {
      const again = readUpdateState(ctx.stateDir);
      writeUpdateState(ctx.stateDir, {
        ...again,
        finished: { ...again.finished, [id]: { ...again.finished[id]!, reported: true } },
      });
    }
  }

  /** Reports a step; true when the server has it (or no longer knows the update). */
  private async report(
    ctx: UpdateContext,
    id: string,
    report: Omit<UpdateReport, 'at'> & { at?: string },
  ): Promise<boolean> {
    const body: UpdateReport = { ...report, at: report.at ?? this.now().toISOString() };
    try {
      const res = await ctx.request('POST', `/device/v1/updates/${id}/report`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await res.body?.cancel().catch(() => undefined);
      if (res.ok || res.status === 404) return true;
      ctx.logger.warn('update report refused', { status: res.status, report: body.status });
    } catch (err) {
      ctx.logger.warn('update report not sent', {
        report: body.status,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    return false;
  }

  private removeFiles(stateDir: string, id: string): void {
    ensurePrivateDir(updateDir(stateDir));
    for (const f of Object.values(filesOf(stateDir, id))) rmSync(f, { force: true });
  }
}
