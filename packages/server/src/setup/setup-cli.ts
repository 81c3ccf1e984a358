import type { Command } from 'commander';
import { withTarget } from '../cli/cli-context.js';
import { ConfigError, effectiveConsoleUrl } from '../config.js';

/**
 * `trustlink setup link`: a new one-time setup link on purpose, for an instance that has no
 * administrator yet (the printed one was lost, or has expired). It voids the earlier unused
 * link. Local mode only: before the first administrator there is no API token to call a server.
 */
export function registerSetupCommands(
  program: Command,
  run: (fn: () => Promise<void>) => Promise<void>,
) {
  const setup = program.command('setup').description('first run: claiming a new instance');
  setup
    .command('link')
    .description(
      'issue a new one-time setup link (voids the earlier one) while no administrator exists',
    )
    .option('-c, --config <file>', 'JSON configuration file (see docs/configuration.md)')
    .option('--json', 'print JSON')
    .action((o: { config?: string; json?: boolean }) =>
      run(async () => {
        const res = await withTarget({ config: o.config }, async (t) => {
          if (t.mode !== 'local') throw new ConfigError('setup link works on the server only');
          const { runtime, ctx } = t;
          const { config, instance } = runtime;
          const link = await runtime.setup.issue(instance.id, config.setupLinkTtlMinutes);
          if (!link)
            throw new ConfigError(
              'this instance already has an administrator; sign in (an administrator adds users)',
            );
          await runtime.audit.record({
            instanceId: instance.id,
            actor: ctx.actor,
            action: 'setup.link',
            target: { type: 'instance', id: instance.id },
            result: 'ok',
            details: { expiresAt: link.expiresAt },
          });
          return {
            // The address `trustlink serve` prints (the console URL, or host and port).
            url: `${effectiveConsoleUrl(config)}/setup#token=${link.token}`,
            expiresAt: link.expiresAt,
          };
        });
        process.stdout.write(
          o.json
            ? JSON.stringify(res, null, 2) + '\n'
            : `One-time setup link (valid until ${res.expiresAt}; earlier links no longer work):\n  ${res.url}\n`,
        );
      }),
    );
}
