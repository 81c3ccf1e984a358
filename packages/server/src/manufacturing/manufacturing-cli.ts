import type { Command } from 'commander';
import {
  printTable,
  withConnection,
  withTarget,
  type ConnectionOptions,
  type Target,
} from '../cli/cli-context.js';
import { ConfigError } from '../config.js';
import { credentialStatus } from './manufacturing-fns.js';
import type { ManufacturingCredential } from './manufacturing-repo.js';
import { createCredentialSchema, MAX_DEVICES_LIMIT } from './manufacturing-types.js';

type Run = (fn: () => Promise<void>) => Promise<void>;
type View = ManufacturingCredential & { status: string };

async function listCredentials(t: Target): Promise<View[]> {
  if (t.mode === 'remote')
    return (await t.call<{ items: View[] }>('GET', '/api/v1/manufacturing-credentials')).items;
  const now = t.runtime.now();
  return (await t.runtime.manufacturing.list(t.runtime.instance.id)).map((c) => ({
    ...c,
    status: credentialStatus(c, now),
  }));
}

async function batchIdOf(t: Target, ref: string): Promise<string> {
  const list =
    t.mode === 'remote'
      ? (await t.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/batches')).items
      : await t.runtime.fleet.batches.list(t.runtime.instance.id);
  const b = list.find((x) => x.id === ref || x.name === ref);
  if (!b) throw new ConfigError(`no batch with id or name "${ref}"`);
  return b.id;
}

/** `trustlink manufacturing-credential create|list|delete`, locally or against a server. */
export function registerManufacturingCommands(program: Command, run: Run): void {
  const cmd = program
    .command('manufacturing-credential')
    .description(
      'credentials a production-line station uses to add device IDs to one batch (and nothing else)',
    );

  withConnection(
    cmd
      .command('create')
      .description(
        'create a credential for a batch; prints its value alone on standard output, once',
      )
      .requiredOption('--name <name>', 'a name people recognise, e.g. "line 3 week 48"')
      .requiredOption('--batch <id-or-name>', 'the batch the station adds device IDs to')
      .requiredOption(
        '--max-devices <n>',
        `how many device IDs it may add (1..${MAX_DEVICES_LIMIT})`,
      )
      .option('--not-after <time>', 'ISO 8601 end of validity, e.g. 2027-01-31T18:00:00Z')
      .option('--hours <hours>', 'validity from now in hours, when --not-after is not given', '24'),
  ).action(
    (
      o: ConnectionOptions & {
        name: string;
        batch: string;
        maxDevices: string;
        notAfter?: string;
        hours: string;
      },
    ) =>
      run(() =>
        withTarget(o, async (t) => {
          const hours = Number(o.hours);
          if (!o.notAfter && !(Number.isInteger(hours) && hours >= 1))
            throw new ConfigError('--hours: a whole number of hours, at least 1');
          const notAfter = o.notAfter
            ? new Date(o.notAfter)
            : new Date(Date.now() + hours * 3_600_000);
          if (Number.isNaN(notAfter.getTime()))
            throw new ConfigError('--not-after: an ISO 8601 time, e.g. 2027-01-31T18:00:00Z');
          const parsed = createCredentialSchema.safeParse({
            name: o.name,
            batchId: await batchIdOf(t, o.batch),
            notAfter: notAfter.toISOString(),
            maxDevices: Number(o.maxDevices),
          });
          if (!parsed.success) {
            const i = parsed.error.issues[0]!;
            const option = { name: '--name', maxDevices: '--max-devices' }[String(i.path[0])];
            throw new ConfigError(`${option ?? String(i.path[0])}: ${i.message}`);
          }
          const r =
            t.mode === 'remote'
              ? await t.call<{ value: string; id: string }>(
                  'POST',
                  '/api/v1/manufacturing-credentials',
                  parsed.data,
                )
              : await t.runtime.manufacturing.create(t.runtime.instance.id, parsed.data, t.ctx);
          process.stdout.write(`${r.value}\n`);
        }),
      ),
  );

  withConnection(
    cmd.command('list').description('list credentials with their use (never their values)'),
  ).action((o: ConnectionOptions) =>
    run(() =>
      withTarget(o, async (t) => {
        const items = await listCredentials(t);
        if (o.json) return void process.stdout.write(JSON.stringify(items, null, 2) + '\n');
        printTable([
          ['NAME', 'STATUS', 'USED', 'NOT AFTER', 'BATCH', 'HINT', 'ID'],
          ...items.map((c) => [
            c.name,
            c.status,
            `${c.usedDevices}/${c.maxDevices}`,
            c.notAfter,
            c.batchId,
            `...${c.hint}`,
            c.id,
          ]),
        ]);
      }),
    ),
  );

  withConnection(
    cmd
      .command('delete')
      .description('delete a credential: stations holding it are refused from then on')
      .argument('<id-or-name>', 'the credential'),
  ).action((ref: string, o: ConnectionOptions) =>
    run(() =>
      withTarget(o, async (t) => {
        const matches = (await listCredentials(t)).filter((c) => c.id === ref || c.name === ref);
        if (matches.length === 0) throw new ConfigError(`no manufacturing credential "${ref}"`);
        if (matches.length > 1)
          throw new ConfigError(`${matches.length} credentials are named "${ref}": give the id`);
        const c = matches[0]!;
        if (t.mode === 'remote')
          await t.call('DELETE', `/api/v1/manufacturing-credentials/${c.id}`);
        else await t.runtime.manufacturing.remove(t.runtime.instance.id, c.id, t.ctx);
        process.stdout.write(`deleted manufacturing credential ${c.name} (${c.id})\n`);
      }),
    ),
  );
}
