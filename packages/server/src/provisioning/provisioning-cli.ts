import type { Command } from 'commander';
import {
  printTable,
  withConnection,
  withTarget,
  type ConnectionOptions,
  type Target,
} from '../cli/cli-context.js';
import { ConfigError } from '../config.js';
import { BOOTLOADER_KINDS, DEVICE_TYPES } from './provisioning-fns.js';
import {
  runPageQuerySchema,
  taskInputSchema,
  type Run as ProvisioningRun,
  type Task,
} from './provisioning-types.js';

type Run = (fn: () => Promise<void>) => Promise<void>;

const listTasks = async (t: Target): Promise<Task[]> =>
  t.mode === 'remote'
    ? (await t.call<{ items: Task[] }>('GET', '/api/v1/provisioning-tasks')).items
    : t.runtime.provisioning.tasks.list(t.runtime.instance.id);

/** The id of the one record whose id or name is `ref`, or a clear error. */
function pick(list: { id: string; name: string }[], ref: string, what: string): string {
  const found = list.filter((x) => x.id === ref || x.name === ref);
  if (found.length === 0) throw new ConfigError(`no ${what} with id or name "${ref}"`);
  if (found.length > 1)
    throw new ConfigError(`${found.length} ${what}s are named "${ref}": give the id`);
  return found[0]!.id;
}

async function firmwareList(t: Target) {
  return t.mode === 'remote'
    ? (await t.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/firmware')).items
    : t.runtime.firmware.catalog.list(t.runtime.instance.id, { operator: 'and', filters: [] });
}

async function batchList(t: Target) {
  return t.mode === 'remote'
    ? (await t.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/batches')).items
    : t.runtime.fleet.batches.list(t.runtime.instance.id);
}

const OPTION_OF: Record<string, string> = {
  name: '--name',
  deviceType: '--device-type',
  bootloaderKind: '--bootloader-kind',
};

/** `trustlink provisioning-task create|list|runs|delete`, locally or against a server. */
export function registerProvisioningCommands(program: Command, run: Run): void {
  const cmd = program
    .command('provisioning-task')
    .description(
      'what the console flashes onto an ESP32 over USB serial, and the batch its device ID joins (runs happen in the console: Provisioning)',
    );

  withConnection(
    cmd
      .command('create')
      .description('create a task from firmware in the library and a batch; prints its id')
      .requiredOption('--name <name>', 'unique name, e.g. "Sensor line 2"')
      .requiredOption('--device-type <type>', `one of ${DEVICE_TYPES.join(', ')}`)
      .requiredOption(
        '--bootloader-kind <kind>',
        `${BOOTLOADER_KINDS.join(' or ')}: release enables secure boot for good and needs a batch with a signing key`,
      )
      .requiredOption('--bootloader <firmware>', 'bootloader image (format esp32-sbv2), id or name')
      .requiredOption('--partition-table <firmware>', 'partition table (raw), id or name')
      .requiredOption(
        '--ief <firmware>',
        'initial enrolment firmware (format esp32-sbv2), id or name',
      )
      .requiredOption('--batch <batch>', 'the batch device IDs join, id or name'),
  ).action(
    (
      o: ConnectionOptions & {
        name: string;
        deviceType: string;
        bootloaderKind: string;
        bootloader: string;
        partitionTable: string;
        ief: string;
        batch: string;
      },
    ) =>
      run(() =>
        withTarget(o, async (t) => {
          const firmware = await firmwareList(t);
          const parsed = taskInputSchema.safeParse({
            name: o.name,
            deviceType: o.deviceType,
            bootloaderKind: o.bootloaderKind,
            bootloaderFirmwareId: pick(firmware, o.bootloader, 'firmware'),
            partitionTableFirmwareId: pick(firmware, o.partitionTable, 'firmware'),
            iefFirmwareId: pick(firmware, o.ief, 'firmware'),
            batchId: pick(await batchList(t), o.batch, 'batch'),
          });
          if (!parsed.success) {
            const i = parsed.error.issues[0]!;
            const key = String(i.path[0]);
            throw new ConfigError(`${OPTION_OF[key] ?? key}: ${i.message}`);
          }
          const created =
            t.mode === 'remote'
              ? await t.call<Task>('POST', '/api/v1/provisioning-tasks', parsed.data)
              : await t.runtime.provisioning.tasks.create(
                  t.runtime.instance.id,
                  parsed.data,
                  t.ctx,
                );
          process.stdout.write(`${created.id}\n`);
        }),
      ),
  );

  withConnection(cmd.command('list').description('list provisioning tasks')).action(
    (o: ConnectionOptions) =>
      run(() =>
        withTarget(o, async (t) => {
          const items = await listTasks(t);
          if (o.json) return void process.stdout.write(JSON.stringify(items, null, 2) + '\n');
          printTable([
            ['NAME', 'DEVICE TYPE', 'BOOTLOADER', 'IEF', 'BATCH', 'ID'],
            ...items.map((x) => [
              x.name,
              x.deviceType,
              x.bootloaderKind,
              x.ief.name,
              x.batch.name,
              x.id,
            ]),
          ]);
        }),
      ),
  );

  withConnection(
    cmd
      .command('runs')
      .description("a task's runs, newest first: who started each, how it ended, the device ID")
      .argument('<id-or-name>', 'the task')
      .option('--limit <n>', 'runs to show (1-200)', '20')
      .option('--offset <n>', 'newest runs to skip', '0'),
  ).action((ref: string, o: ConnectionOptions & { limit: string; offset: string }) =>
    run(() =>
      withTarget(o, async (t) => {
        const page = runPageQuerySchema.safeParse({ limit: o.limit, offset: o.offset });
        if (!page.success) {
          const i = page.error.issues[0]!;
          throw new ConfigError(`--${String(i.path[0])}: ${i.message}`);
        }
        const id = pick(await listTasks(t), ref, 'provisioning task');
        const { limit, offset } = page.data;
        const runs =
          t.mode === 'remote'
            ? await t.call<{ items: ProvisioningRun[]; total: number }>(
                'GET',
                `/api/v1/provisioning-tasks/${id}/runs?limit=${limit}&offset=${offset}`,
              )
            : await t.runtime.provisioning.runs.list(t.runtime.instance.id, id, page.data);
        if (o.json) return void process.stdout.write(JSON.stringify(runs, null, 2) + '\n');
        printTable([
          ['STARTED', 'STATUS', 'DEVICE ID', 'ENDED', 'BY', 'REASON'],
          ...runs.items.map((x) => [
            x.startedAt,
            x.status,
            x.deviceId ?? '-',
            x.endedAt ?? '-',
            x.startedBy,
            x.reason ?? '',
          ]),
        ]);
        const shown = runs.items.length;
        if (shown < runs.total)
          process.stdout.write(
            `(${shown ? `${offset + 1}-${offset + shown}` : 'none'} of ${runs.total}; --offset for more)\n`,
          );
      }),
    ),
  );

  withConnection(
    cmd
      .command('delete')
      .description('delete a task and its run history (provisioned devices stay in their batch)')
      .argument('<id-or-name>', 'the task'),
  ).action((ref: string, o: ConnectionOptions) =>
    run(() =>
      withTarget(o, async (t) => {
        const list = await listTasks(t);
        const id = pick(list, ref, 'provisioning task');
        if (t.mode === 'remote') await t.call('DELETE', `/api/v1/provisioning-tasks/${id}`);
        else await t.runtime.provisioning.tasks.remove(t.runtime.instance.id, id, t.ctx);
        process.stdout.write(
          `deleted provisioning task ${list.find((x) => x.id === id)!.name} (${id})\n`,
        );
      }),
    ),
  );
}
