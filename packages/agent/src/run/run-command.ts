import type { AgentConfig } from '../config/agent-config-schema.js';
import type { IdentityKeyStore } from '../keystore/key-store-types.js';
import { createLocalApi } from '../local-api/local-api-server.js';
import { socketPathOf } from '../state/status-report.js';
import { createAgentDaemon } from './agent-daemon.js';
import { PlatformUntrustedError } from './run-errors.js';
import type { RunLog } from './run-log.js';
import type { UpdateHandler } from './update-handler.js';
import { EXIT } from '../commands/exit-codes.js';

/**
 * Exit codes of `trustlink-agent run` beyond the common ones (commands/exit-codes.ts); the
 * systemd unit does not restart the agent after `revoked`.
 */
export const RUN_EXIT = {
  /** The device is revoked: the agent stopped for good. */
  revoked: EXIT.revoked,
  /** `--once`: the platform's certificate does not chain to the pinned root. */
  untrusted: EXIT.platformUntrusted,
  /** `--once`: the platform could not be reached or refused the request. */
  platformFailed: EXIT.platformUnreachable,
} as const;

/**
 * `trustlink-agent run`: the daemon with its local API, until SIGTERM/SIGINT (exit 0) or
 * revocation (exit 15). With `once`, one cycle (enrol or renew if due, check in) and its result.
 */
export async function runCommand(
  config: Readonly<AgentConfig>,
  store: IdentityKeyStore,
  opts: { once: boolean; log: RunLog; updateHandler?: UpdateHandler },
): Promise<number> {
  const { log } = opts;
  const daemon = createAgentDaemon({
    config,
    store,
    log,
    ...(opts.updateHandler ? { updateHandler: opts.updateHandler } : {}),
  });
  await daemon.init();
  if (opts.once) {
    try {
      const outcome = await daemon.run({ once: true });
      return outcome === 'revoked' ? RUN_EXIT.revoked : 0;
    } catch (err) {
      return err instanceof PlatformUntrustedError ? RUN_EXIT.untrusted : RUN_EXIT.platformFailed;
    }
  }
  const localApi = createLocalApi({ socketPath: socketPathOf(config), source: daemon, log });
  await localApi.listen();
  log.info('local API listening', { socket: socketPathOf(config) });
  const stop = (signal: string) => {
    log.info(`${signal}: stopping`);
    daemon.stop();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    const outcome = await daemon.run();
    return outcome === 'revoked' ? RUN_EXIT.revoked : 0;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    await localApi.close();
  }
}
