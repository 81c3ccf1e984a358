import type { Command } from 'commander';
import {
  printTable,
  withConnection,
  withTarget,
  type ConnectionOptions,
} from '../cli/cli-context.js';
import { ConfigError } from '../config.js';

interface TokenView {
  id: string;
  name: string;
  hint: string;
  owner: { id: string; username: string | null };
  status: string;
  expiresAt: string;
  lastUsedAt: string | null;
  token?: string;
}

/** `trustlink token create|list|revoke`, locally or against a server. */
export function registerTokenCommands(
  program: Command,
  run: (fn: () => Promise<void>) => Promise<void>,
) {
  const token = program.command('token').description('API tokens for automation');

  withConnection(
    token
      .command('create')
      .description('create an API token; prints the token alone on standard output, once')
      .requiredOption('--name <name>', 'what the token is for')
      .option('--expires-days <days>', 'lifetime in days', '90')
      .option('--user <username>', 'local mode: the owner (remote mode: always the caller)'),
  ).action((o: ConnectionOptions & { name: string; expiresDays: string; user?: string }) =>
    run(async () => {
      const expiresInDays = Number(o.expiresDays);
      if (!Number.isInteger(expiresInDays) || expiresInDays < 1) {
        throw new ConfigError('--expires-days: a whole number of days, at least 1');
      }
      const made = await withTarget(o, async (t): Promise<TokenView & { token: string }> => {
        if (t.mode === 'remote') {
          if (o.user)
            throw new ConfigError(
              '--user: in remote mode a token is always created for the caller',
            );
          return t.call('POST', '/api/v1/tokens', { name: o.name, expiresInDays });
        }
        if (!o.user) throw new ConfigError('--user: name the owner of the token');
        const { access, instance } = t.runtime;
        const owner = await access.users.findByUsername(instance.id, o.user);
        if (!owner) throw new ConfigError(`no user named ${o.user}`);
        const { token: secret, record } = await access.apiTokens.create(
          instance.id,
          { id: owner.id, username: owner.username },
          { name: o.name, expiresInDays },
          t.ctx,
        );
        return {
          ...record,
          owner: { id: owner.id, username: owner.username },
          status: 'active',
          token: secret,
        };
      });
      if (o.json) process.stdout.write(JSON.stringify(made, null, 2) + '\n');
      else {
        process.stderr.write(
          `API token ${made.id} "${made.name}" for ${made.owner.username}, expires ${made.expiresAt}. It is shown only now:\n`,
        );
        process.stdout.write(made.token + '\n');
      }
    }),
  );

  withConnection(token.command('list').description('list API tokens')).action(
    (o: ConnectionOptions) =>
      run(async () => {
        const tokens = await withTarget(o, async (t): Promise<TokenView[]> => {
          if (t.mode === 'remote')
            return (await t.call<{ tokens: TokenView[] }>('GET', '/api/v1/tokens')).tokens;
          const { access, instance } = t.runtime;
          const names = new Map(
            (await access.users.list(instance.id)).map((u) => [u.id, u.username]),
          );
          const now = t.runtime.now().getTime();
          return (await access.apiTokens.list(instance.id)).map((r) => ({
            ...r,
            owner: { id: r.userId, username: names.get(r.userId) ?? null },
            status: r.revokedAt ? 'revoked' : Date.parse(r.expiresAt) <= now ? 'expired' : 'active',
          }));
        });
        if (o.json) {
          process.stdout.write(JSON.stringify(tokens, null, 2) + '\n');
          return;
        }
        printTable([
          ['ID', 'NAME', 'OWNER', 'STATUS', 'ENDS', 'EXPIRES', 'LAST USED'],
          ...tokens.map((x) => [
            x.id,
            x.name,
            x.owner.username ?? x.owner.id,
            x.status,
            `…${x.hint}`,
            x.expiresAt,
            x.lastUsedAt ?? '-',
          ]),
        ]);
      }),
  );

  withConnection(token.command('revoke <id>').description('revoke an API token by its id')).action(
    (id: string, o: ConnectionOptions) =>
      run(async () => {
        await withTarget(o, async (t) => {
          if (t.mode === 'remote')
            await t.call('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
          else {
            await t.runtime.access.apiTokens.revoke(
              t.runtime.instance.id,
              id,
              { userId: null, asAdmin: true },
              t.ctx,
            );
          }
        });
        process.stdout.write(`revoked API token ${id}\n`);
      }),
  );
}
