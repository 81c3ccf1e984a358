import type { Command } from 'commander';
import {
  printTable,
  withConnection,
  withTarget,
  type ConnectionOptions,
  type Target,
} from '../cli/cli-context.js';
import { readNewPassword } from '../cli/password-prompt.js';
import { ConfigError } from '../config.js';
import { ROLES, type Role, type User } from './users-types.js';

async function listUsers(t: Target): Promise<User[]> {
  if (t.mode === 'remote') return (await t.call<{ users: User[] }>('GET', '/api/v1/users')).users;
  return t.runtime.access.users.list(t.runtime.instance.id);
}

async function findUser(t: Target, username: string): Promise<User> {
  const u = (await listUsers(t)).find((x) => x.username.toLowerCase() === username.toLowerCase());
  if (!u) throw new ConfigError(`no user named ${username}`);
  return u;
}

async function patchUser(t: Target, id: string, patch: { disabled: boolean }): Promise<User> {
  if (t.mode === 'remote') return t.call<User>('PATCH', `/api/v1/users/${id}`, patch);
  return t.runtime.access.users.update(t.runtime.instance.id, id, patch, t.ctx);
}

const print = (u: User, json?: boolean) =>
  process.stdout.write(
    json
      ? JSON.stringify(u, null, 2) + '\n'
      : `${u.username} (${u.role}${u.disabled ? ', disabled' : ''}) id ${u.id}\n`,
  );

/** `trustlink user add|list|disable|enable`, locally or against a server. */
export function registerUserCommands(
  program: Command,
  run: (fn: () => Promise<void>) => Promise<void>,
) {
  const user = program.command('user').description('manage users (administrators only)');

  withConnection(
    user
      .command('add')
      .description('create a user; two-factor is on unless --no-two-factor')
      .requiredOption('--username <name>', 'unique, immutable: letters, digits, - and _')
      .requiredOption('--email <address>', 'email address')
      .requiredOption('--first-name <name>', 'first name')
      .requiredOption('--last-name <name>', 'last name')
      .option('--role <role>', `${ROLES.join(' or ')}`, 'contributor')
      .option('--no-two-factor', 'do not require a TOTP code at sign-in (not recommended)')
      .option('--password-stdin', 'read the password from standard input'),
  ).action((o: ConnectionOptions & Record<string, string | boolean | undefined>) =>
    run(async () => {
      if (!ROLES.includes(o.role as Role))
        throw new ConfigError(`--role: use ${ROLES.join(' or ')}`);
      const password = await readNewPassword(Boolean(o.passwordStdin));
      const input = {
        username: String(o.username),
        email: String(o.email),
        firstName: String(o.firstName),
        lastName: String(o.lastName),
        role: o.role as Role,
        twoFactorEnabled: o.twoFactor !== false,
        password,
      };
      const created = await withTarget(o, (t) =>
        t.mode === 'remote'
          ? t.call<User>('POST', '/api/v1/users', input)
          : t.runtime.access.users.create(t.runtime.instance.id, input, t.ctx),
      );
      print(created, o.json as boolean | undefined);
    }),
  );

  withConnection(user.command('list').description('list users')).action((o: ConnectionOptions) =>
    run(async () => {
      const users = await withTarget(o, listUsers);
      if (o.json) {
        process.stdout.write(JSON.stringify(users, null, 2) + '\n');
        return;
      }
      printTable([
        ['USERNAME', 'ROLE', 'NAME', 'EMAIL', '2FA', 'STATUS', 'LAST LOGIN', 'CREATED'],
        ...users.map((u) => [
          u.username,
          u.role,
          `${u.firstName} ${u.lastName}`,
          u.email,
          u.twoFactorEnabled ? (u.twoFactorEnrolled ? 'on' : 'on (not enrolled)') : 'off',
          u.disabled ? 'disabled' : 'active',
          u.lastLoginAt ?? '-',
          u.createdAt,
        ]),
      ]);
    }),
  );

  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    withConnection(
      user
        .command(`${name} <username>`)
        .description(
          disabled
            ? 'disable a user: their sessions end, their tokens stop working'
            : 'enable a disabled user',
        ),
    ).action((username: string, o: ConnectionOptions) =>
      run(async () => {
        const u = await withTarget(o, async (t) =>
          patchUser(t, (await findUser(t, username)).id, { disabled }),
        );
        print(u, o.json);
      }),
    );
  }
}
