import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import {
  spkiFromCertificate,
  verifyTimeStatement,
  type DatabaseTokenResponse,
} from '@trustlink/protocol';
import type { AgentConfig } from '../config/agent-config-schema.js';
import { ConfigError } from '../config/agent-config.js';
import { createCsr } from '../identity/csr-builder.js';
import { deviceIdOf } from '../identity/device-id.js';
import { identitySigner } from '../identity/identity-signer.js';
import { NoIdentityKeyError } from '../keystore/key-store-errors.js';
import type { IdentityKeyStore } from '../keystore/key-store-types.js';
import { canonicalPublicKey } from '../keystore/spki-fns.js';
import { readAgentState, writeAgentState, type AgentState } from '../state/agent-state.js';
import { statusReportOf, type StatusReport } from '../state/status-report.js';
import { nextCheckInDelayMs, retryDelayMs } from './backoff-fns.js';
import { checkChainToRoot } from './chain-fns.js';
import {
  applicationKeyReference,
  writeCredentials,
  type CredentialsIndex,
} from './credentials-writer.js';
import { createDeviceApiClient, type DeviceApiClient } from './device-api-client.js';
import { createPlatformTransport } from './platform-transport.js';
import {
  DeviceRevokedError,
  NotEnrolledError,
  PlatformProblemError,
  PlatformUntrustedError,
} from './run-errors.js';
import type { RunLog } from './run-log.js';
import { createTrustedClock, type TrustedClock } from './trusted-clock.js';
import { loggingUpdateHandler, type UpdateHandler } from './update-handler.js';

const ID_KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
/** Shortest pause between two cycles, whatever the certificate's times say. */
const MIN_DELAY_MS = 1000;

/** Serials compared as numbers (hex with or without leading zeros). */
function sameSerial(a: string, b: string): boolean {
  const n = (s: string) => s.toLowerCase().replace(/^0+(?=.)/, '');
  return n(a) === n(b);
}

export interface AgentDaemonDeps {
  config: Readonly<AgentConfig>;
  store: IdentityKeyStore;
  log: RunLog;
  updateHandler?: UpdateHandler;
  /** The system clock (tests stand in a device without a real-time clock). */
  systemClock?: () => Date;
  random?: () => number;
}

export type RunOutcome = 'stopped' | 'revoked' | 'ok' | 'failed';

/**
 * The operating mode (A4): enrol with a proof by the identity key, keep the certificate
 * current, check in, hand updates to the update handler, and stop for good when revoked.
 * Everything it learns is persisted (state/agent-state.ts) before it acts on it, so a restart
 * or a power cut loses nothing; what applications need is mirrored into the credentials
 * directory.
 */
export function createAgentDaemon(deps: AgentDaemonDeps) {
  const { config, store, log } = deps;
  const random = deps.random ?? Math.random;
  const updateHandler = deps.updateHandler ?? loggingUpdateHandler();
  const events = new EventEmitter();
  let state!: AgentState;
  let clock!: TrustedClock;
  let api!: DeviceApiClient;
  let root!: X509Certificate;
  let spkiDer!: Buffer;
  let keyReference: Record<string, string> = {};
  let credentials: CredentialsIndex | null = null;
  let stopped = false;
  let wake: (() => void) | undefined;

  function persist(): void {
    const floor = clock.raiseFloor();
    state.timeFloor = floor.toISOString();
    writeAgentState(config.stateDir, state);
  }

  async function init(): Promise<void> {
    const key = await store.publicKey();
    if (!key) throw new NoIdentityKeyError();
    spkiDer = canonicalPublicKey(key.spkiDer).spkiDer;
    const deviceId = deviceIdOf(spkiDer);
    const saved = readAgentState(config.stateDir);
    if (saved && saved.deviceId !== deviceId) {
      log.warn('the state directory belongs to another identity key: starting over', {
        recorded: saved.deviceId,
        device: deviceId,
      });
    }
    state =
      saved && saved.deviceId === deviceId
        ? saved
        : { version: 1, deviceId, phase: 'unenrolled', failures: 0, credentialsGeneration: 0 };
    let rootPem: string;
    try {
      rootPem = readFileSync(config.rootCaFile, 'utf8');
      root = new X509Certificate(rootPem);
    } catch (err) {
      throw new ConfigError(
        `configuration: rootCaFile: cannot read a PEM certificate from ${config.rootCaFile}: ${(err as Error).message}`,
      );
    }
    clock = createTrustedClock({
      source: config.timeSource,
      ...(state.timeFloor ? { floor: new Date(state.timeFloor) } : {}),
      ...(deps.systemClock ? { system: deps.systemClock } : {}),
    });
    const transport = createPlatformTransport({
      platformUrl: config.platformUrl,
      rootCaFile: config.rootCaFile,
      rootPem,
      now: () => clock.now(),
    });
    api = createDeviceApiClient({
      transport,
      signer: await identitySigner(store),
      spkiDer,
      certificate: () =>
        state.certificate && state.phase === 'enrolled'
          ? Buffer.from(state.certificate.der, 'base64url')
          : undefined,
      now: () => clock.now(),
    });
    keyReference = applicationKeyReference(config, store.describe().reference);
    credentials = writeCredentials(config, state, keyReference);
    log.info('agent started', {
      device: deviceId,
      phase: state.phase,
      keyStore: store.describe().summary,
      platform: config.platformUrl,
    });
  }

  /** Asks the platform for the time and adopts it after checking it (PROTOCOL.md "Time"). */
  async function syncTime(): Promise<void> {
    const floor = clock.floor();
    const { nonce, answer } = await api.time({ timeUnknown: true });
    const [leaf, ...rest] = answer.chain.map(
      (c) => new X509Certificate(Buffer.from(c, 'base64url')),
    );
    const at = clock.now();
    const chain = checkChainToRoot(leaf!, rest, {
      root,
      at,
      timeUnknown: true,
      extendedKeyUsage: ID_KP_TIME_STAMPING,
    });
    if (!chain.ok) throw new PlatformUntrustedError(`signed time refused: ${chain.detail}`);
    const verified = verifyTimeStatement(answer.statement, {
      publicKeySpki: leaf!.publicKey.export({ type: 'spki', format: 'der' }),
      nonce,
      ...(floor ? { floor } : {}),
    });
    if (!verified.ok)
      throw new PlatformUntrustedError(
        `signed time refused: ${verified.reason}: ${verified.detail}`,
      );
    const inTime = checkChainToRoot(leaf!, rest, { root, at: verified.time });
    if (!inTime.ok) throw new PlatformUntrustedError(`signed time refused: ${inTime.detail}`);
    clock.adoptSignedTime(verified.time);
    log.info('using signed time from the platform', {
      time: verified.time.toISOString(),
      system: (deps.systemClock ?? (() => new Date()))().toISOString(),
    });
  }

  /** Checks a certificate the platform issued before anything relies on it. */
  function checkIssued(der: Buffer, chain: Buffer[]): { serial: string; notAfter: string } {
    const cert = new X509Certificate(der);
    const key = spkiFromCertificate(der);
    if (!key.ok || !canonicalPublicKey(key.spki).spkiDer.equals(spkiDer))
      throw new PlatformUntrustedError('the platform issued a certificate for another key');
    const path = checkChainToRoot(
      cert,
      chain.map((c) => new X509Certificate(c)),
      { root, at: clock.now() },
    );
    if (!path.ok) throw new PlatformUntrustedError(`the issued certificate: ${path.detail}`);
    return {
      serial: cert.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, ''),
      notAfter: new Date(cert.validTo).toISOString(),
    };
  }

  function runHook(argv: readonly string[] | undefined, env: Record<string, string>): void {
    if (!argv) return;
    execFile(
      argv[0]!,
      argv.slice(1),
      { timeout: config.hooks.timeoutSeconds * 1000, env: { ...process.env, ...env } },
      (err) => {
        if (err) log.warn('credentialsUpdated hook failed', { hook: argv[0], error: err.message });
      },
    );
  }

  /** Adopts a new certificate: state first (persisted), then the credentials directory. */
  function adopt(cert: { certificate: string; chain: string[]; renewAt: string }, why: string) {
    const der = Buffer.from(cert.certificate, 'base64url');
    const checked = checkIssued(
      der,
      cert.chain.map((c) => Buffer.from(c, 'base64url')),
    );
    state.certificate = {
      der: cert.certificate,
      serial: checked.serial,
      notAfter: checked.notAfter,
      renewAt: cert.renewAt,
      chain: cert.chain,
    };
    state.credentialsGeneration += 1;
    if (why !== 'enrolled') state.lastRenewedAt = clock.now().toISOString();
    state.etag = undefined;
    api.dropSession();
    persist();
    credentials = writeCredentials(config, state, keyReference);
    events.emit('credentials', credentials);
    log.info(`certificate ${why}`, {
      serial: checked.serial,
      notAfter: checked.notAfter,
      renewAt: cert.renewAt,
    });
    runHook(config.hooks.credentialsUpdated, {
      TRUSTLINK_CREDENTIALS_DIR: config.credentialsDir!,
    });
  }

  async function enrol(): Promise<void> {
    log.info('enrolling', { device: state.deviceId });
    const csr = await createCsr(store, state.deviceId);
    const r = await api.enrol(csr);
    if (r.deviceId !== state.deviceId)
      throw new PlatformUntrustedError(`the platform enrolled device ${r.deviceId}, not this one`);
    state.enrolment = {
      instanceId: r.instanceId,
      batchId: r.batchId,
      trustAnchors: r.trustAnchors,
      ...(r.hub ? { hub: r.hub } : {}),
      ...(r.signing ? { signing: r.signing } : {}),
      ...(r.database ? { database: r.database } : {}),
      enrolledAt: clock.now().toISOString(),
    };
    state.phase = 'enrolled';
    adopt(r, 'enrolled');
  }

  async function renew(expired: boolean): Promise<void> {
    log.info(expired ? 'certificate expired: renewing with a proof' : 'renewing the certificate', {
      serial: state.certificate?.serial,
      renewAt: state.certificate?.renewAt,
    });
    const csr = await createCsr(store, state.deviceId);
    adopt(await api.renew(csr, { expired }), 'renewed');
  }

  /**
   * An update the handler has not finished: it said so (`in-progress`: a download to resume, a
   * reboot to wait for), or the agent stopped while it ran (`offered`). It goes to the handler
   * again at every check-in, a 304 included, until the handler is done with it.
   */
  function unfinishedUpdate(): { id: string; manifestUrl: string } | undefined {
    const u = state.update;
    if (!u || updateHandler.handlesUpdates === false) return undefined;
    return u.state === 'in-progress' || u.state === 'offered'
      ? { id: u.id, manifestUrl: u.manifestUrl }
      : undefined;
  }

  async function handleUpdate(offer: { id: string; manifestUrl: string }): Promise<void> {
    const prior = state.update;
    if (prior && prior.id === offer.id && prior.state !== 'failed' && !unfinishedUpdate()) return;
    state.update = { ...offer, state: 'offered', at: clock.now().toISOString() };
    persist();
    try {
      const outcome = await updateHandler.handle(offer, {
        config,
        deviceId: state.deviceId,
        instanceId: state.enrolment!.instanceId,
        batchId: state.enrolment!.batchId,
        signing: state.enrolment!.signing,
        api,
        now: () => clock.now(),
        log,
      });
      if (updateHandler.handlesUpdates !== false)
        state.update = {
          ...offer,
          state: outcome === 'pending' ? 'in-progress' : 'handled',
          at: clock.now().toISOString(),
        };
    } catch (err) {
      if (err instanceof DeviceRevokedError) throw err;
      state.update = {
        ...offer,
        state: 'failed',
        at: clock.now().toISOString(),
        detail: (err as Error).message,
      };
      log.warn('update handler failed', { update: offer.id, error: (err as Error).message });
    }
    persist();
  }

  async function checkIn(): Promise<void> {
    const r = await api.status(state.etag);
    state.lastCheckInAt = clock.now().toISOString();
    if (r.notModified) {
      const unfinished = unfinishedUpdate();
      if (unfinished) await handleUpdate(unfinished);
      return;
    }
    state.etag = r.etag;
    state.platformState = r.body.state;
    const current = state.certificate!;
    if (!sameSerial(r.body.certificate.serial, current.serial)) {
      // The platform renewed on its own (auto-renewal): fetch the certificate it made.
      log.info('the platform has a newer certificate', { serial: r.body.certificate.serial });
      adopt(await api.certificate(), 'fetched after automatic renewal');
    }
    persist();
    if (r.body.update) await handleUpdate(r.body.update);
  }

  /** One pass: time, enrolment or renewal, check-in. Throws what went wrong. */
  async function cycle(): Promise<void> {
    if (clock.needsSignedTime()) await syncTime();
    if (state.phase === 'unenrolled') await enrol();
    const cert = state.certificate!;
    const now = clock.now().getTime();
    if (now >= Date.parse(cert.notAfter)) {
      try {
        await renew(true);
      } catch (err) {
        // Past the policy's grace period an expired device renews no more: it enrols again,
        // under the enrolment rules (its ID is still registered in its batch).
        if (!(err instanceof PlatformProblemError && err.status === 401)) throw err;
        log.warn('renewal after expiry refused (past the grace period?): enrolling again');
        await enrol();
      }
    } else if (now >= Date.parse(cert.renewAt)) await renew(false);
    await checkIn();
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Read through a call: the local API may mark the device revoked while `run` awaits. */
  const revoked = () => state.phase === 'revoked';

  function markRevoked(err: DeviceRevokedError): void {
    state.phase = 'revoked';
    state.revokedAt = clock.now().toISOString();
    state.lastError = { at: state.revokedAt, message: err.message };
    state.nextAttemptAt = undefined;
    persist();
    events.emit('revoked');
    log.error('device revoked: the platform will not serve it again; stopping', {
      device: state.deviceId,
    });
  }

  /**
   * Runs cycles until stopped or revoked (or once). Failures are retried with exponential
   * backoff; a check-in follows the configured interval, or comes earlier for renewal.
   */
  async function run(opts: { once?: boolean } = {}): Promise<RunOutcome> {
    if (state.phase === 'revoked') {
      log.error('device is revoked (since the state directory says so): not running', {
        revokedAt: state.revokedAt,
      });
      return 'revoked';
    }
    while (!stopped) {
      let delay: number;
      let ok = true;
      try {
        await cycle();
        if (state.failures > 0) log.info('the platform answers again', { after: state.failures });
        state.failures = 0;
        state.lastError = undefined;
        const untilRenew = Date.parse(state.certificate!.renewAt) - clock.now().getTime();
        delay = Math.max(
          MIN_DELAY_MS,
          nextCheckInDelayMs(config.checkInIntervalSeconds, random, untilRenew),
        );
      } catch (err) {
        if (err instanceof DeviceRevokedError) {
          if (!revoked()) markRevoked(err);
          return 'revoked';
        }
        ok = false;
        state.failures += 1;
        const message = (err as Error)?.message ?? String(err);
        delay = retryDelayMs(
          state.failures,
          {
            initialSeconds: config.retryInitialSeconds,
            maxSeconds: config.retryMaxSeconds,
            ...(err instanceof PlatformProblemError && err.retryAfterSeconds !== undefined
              ? { retryAfterSeconds: err.retryAfterSeconds }
              : {}),
          },
          random,
        );
        state.lastError = { at: clock.now().toISOString(), message };
        log.warn(`${message}; retrying in ${(delay / 1000).toFixed(1)} s`, {
          failures: state.failures,
        });
        if (opts.once) {
          persist();
          throw err;
        }
      }
      // The local API may have learnt of a revocation while this cycle ran.
      if (revoked()) return 'revoked';
      state.nextAttemptAt = new Date(clock.now().getTime() + delay).toISOString();
      persist();
      if (opts.once) return ok ? 'ok' : 'failed';
      await sleep(delay);
      if (revoked()) return 'revoked';
    }
    return 'stopped';
  }

  /**
   * A database-direct token for an application (local API). The platform's refusal counts for
   * the whole agent: a revocation learnt here ends the agent as one learnt at check-in does, so
   * applications hear of it (`revoked` event, the socket closing) now, not at the next check-in
   * an hour later, and `status` says revoked.
   */
  /**
   * A token from the platform for an application (database direct, hub custom auth): only an
   * enrolled device asks, and a revocation learnt this way stops the agent as a check-in would.
   */
  async function platformToken<T>(ask: () => Promise<T>): Promise<T> {
    if (state.phase === 'revoked') throw new DeviceRevokedError();
    if (state.phase !== 'enrolled') throw new NotEnrolledError();
    try {
      return await ask();
    } catch (err) {
      if (err instanceof DeviceRevokedError && !revoked()) {
        markRevoked(err);
        // Once the local API has sent its 403 (timers run after the pending answer is written).
        setTimeout(() => wake?.(), 0);
      }
      throw err;
    }
  }

  return {
    init,
    run,
    /** Ends the loop at its next pause (or now, if it is waiting). */
    stop() {
      stopped = true;
      wake?.();
    },
    credentials: () => credentials,
    status: (): StatusReport => statusReportOf(config, state),
    /** Called with the new index when the credentials change, and 'revoked' at revocation. */
    events,
    /** A database-direct token; only an enrolled device can ask for one. */
    databaseToken: (): Promise<DatabaseTokenResponse> => platformToken(() => api.databaseToken()),
    /** A token for the AWS IoT custom authorizer of the device's hub; enrolled devices only. */
    hubToken: () => platformToken(() => api.hubToken()),
  };
}
export type AgentDaemon = ReturnType<typeof createAgentDaemon>;
