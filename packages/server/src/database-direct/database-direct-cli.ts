import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  printTable,
  withConnection,
  withTarget,
  type ConnectionOptions,
  type Target,
} from '../cli/cli-context.js';
import { ConfigError } from '../config.js';
import { AppError } from '../lib/errors.js';
import {
  DATABASE_DIRECT_TYPES,
  connectionInputSchema,
  type Connection,
  type ConnectionInput,
} from './database-direct-types.js';

type Run = (fn: () => Promise<void>) => Promise<void>;

/** Service errors in local mode become one line, as the API's problem detail would be. */
async function local<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError) {
      const errors = (err.details?.errors as { path: string; message: string }[] | undefined) ?? [];
      throw new ConfigError(
        [err.message, ...errors.map((e) => `${e.path}: ${e.message}`)].join('; '),
      );
    }
    throw err;
  }
}

async function list(t: Target): Promise<Connection[]> {
  if (t.mode === 'remote')
    return (await t.call<{ items: Connection[] }>('GET', '/api/v1/database-connections')).items;
  return t.runtime.databaseDirect.connections.list(t.runtime.instance.id);
}

/** A connection named by id or by name. */
async function find(t: Target, ref: string): Promise<Connection> {
  const c = (await list(t)).find((x) => x.id === ref || x.name === ref);
  if (!c) throw new ConfigError(`no database direct connection with id or name "${ref}"`);
  return c;
}

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  } catch {
    return '';
  }
}

interface CreateOptions extends ConnectionOptions {
  name: string;
  type: string;
  url: string;
  database: string;
  dataSource?: string;
  caFile?: string;
  tls: boolean;
  username: string;
  passwordStdin?: boolean;
}

function inputOf(o: CreateOptions): ConnectionInput {
  const parsed = connectionInputSchema.safeParse({
    name: o.name,
    type: o.type,
    url: o.url,
    database: o.database,
    dataSource: o.dataSource ?? null,
    caCertificate: o.caFile ? readFileSync(o.caFile, 'utf8') : null,
    tls: o.tls,
    username: o.username,
    password: o.passwordStdin ? readStdin() : undefined,
  });
  if (!parsed.success)
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '),
    );
  return parsed.data;
}

function print(rows: Connection[]): void {
  printTable([
    ['ID', 'NAME', 'TYPE', 'URL', 'DATABASE', 'TLS'],
    ...rows.map((c) => [c.id, c.name, c.type, c.url, c.database, c.tls ? 'yes' : 'no']),
  ]);
}

/** `trustlink database-direct list|show|create|delete|public-key|jwks`, locally or remotely. */
export function registerDatabaseDirectCommands(program: Command, run: Run): void {
  const dd = program
    .command('database-direct')
    .description('database direct connections: devices write to a database with a JWT');

  withConnection(dd.command('list').description('list connections')).action(
    (o: ConnectionOptions) =>
      run(() =>
        withTarget(o, async (t) => {
          const rows = await list(t);
          if (o.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
          else print(rows);
        }),
      ),
  );

  withConnection(
    dd
      .command('show')
      .description('one connection (credentials are never shown)')
      .argument('<ref>', 'id or name'),
  ).action((ref: string, o: ConnectionOptions) =>
    run(() =>
      withTarget(o, async (t) => {
        const c = await find(t, ref);
        process.stdout.write(JSON.stringify(c, null, 2) + '\n');
      }),
    ),
  );

  withConnection(
    dd
      .command('create')
      .description('create a connection and its JWT signing key')
      .requiredOption('--name <name>', 'unique name')
      .requiredOption('--type <type>', DATABASE_DIRECT_TYPES.join(' or '))
      .requiredOption('--url <url>', 'postgresql://host:port or mariadb://host:port')
      .requiredOption('--database <name>', 'database the records go to')
      .option('--data-source <name>', 'free text shown with the connection')
      .option('--ca-file <file>', "PEM of the CA the database's TLS certificate chains to")
      .option('--no-tls', 'connect without TLS (only for a database on a trusted network)')
      .requiredOption('--username <name>', 'database login (stored encrypted)')
      .option('--password-stdin', 'read the password from standard input'),
  ).action((o: CreateOptions) =>
    run(() =>
      withTarget(o, async (t) => {
        const input = inputOf(o);
        const c =
          t.mode === 'remote'
            ? await t.call<Connection>('POST', '/api/v1/database-connections', input)
            : await local(() =>
                t.runtime.databaseDirect.connections.create(t.runtime.instance.id, input, t.ctx),
              );
        if (o.json) process.stdout.write(JSON.stringify(c, null, 2) + '\n');
        else process.stdout.write(`created database direct connection ${c.name} (${c.id})\n`);
      }),
    ),
  );

  withConnection(
    dd
      .command('delete')
      .description('delete a connection no policy uses')
      .argument('<ref>', 'id or name'),
  ).action((ref: string, o: ConnectionOptions) =>
    run(() =>
      withTarget(o, async (t) => {
        const c = await find(t, ref);
        if (t.mode === 'remote') await t.call('DELETE', `/api/v1/database-connections/${c.id}`);
        else
          await local(() =>
            t.runtime.databaseDirect.connections.remove(t.runtime.instance.id, c.id, t.ctx),
          );
        process.stdout.write(`deleted database direct connection ${c.name} (${c.id})\n`);
      }),
    ),
  );

  withConnection(
    dd
      .command('public-key')
      .description("the connection's JWT verification key (PEM)")
      .argument('<ref>', 'id or name'),
  ).action((ref: string, o: ConnectionOptions) =>
    run(() =>
      withTarget(o, async (t) => {
        process.stdout.write((await find(t, ref)).publicKeyPem);
      }),
    ),
  );

  withConnection(
    dd.command('jwks').description("the connection's JWKS (JSON)").argument('<ref>', 'id or name'),
  ).action((ref: string, o: ConnectionOptions) =>
    run(() =>
      withTarget(o, async (t) => {
        const c = await find(t, ref);
        const jwks =
          t.mode === 'remote'
            ? await t.call('GET', `/api/v1/database-connections/${c.id}/jwks`)
            : await t.runtime.databaseDirect.connections.jwks(t.runtime.instance.id, c.id);
        process.stdout.write(JSON.stringify(jwks, null, 2) + '\n');
      }),
    ),
  );
}
