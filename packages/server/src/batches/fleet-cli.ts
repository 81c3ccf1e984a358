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
import { checkDeviceList } from '../devices/device-list-fns.js';
import { policyInputSchema, type Policy } from '../policies/policy-types.js';
import type { UploadResult } from './batch-service.js';
import type { Batch } from './batch-types.js';

type Run = (fn: () => Promise<void>) => Promise<void>;
const log = (line: string) => void process.stderr.write(line + '\n');

async function listPolicies(t: Target): Promise<Policy[]> {
  if (t.mode === 'remote')
    return (await t.call<{ items: Policy[] }>('GET', '/api/v1/policies')).items;
  return t.runtime.fleet.policies.list(t.runtime.instance.id);
}

async function listBatches(t: Target): Promise<Batch[]> {
  if (t.mode === 'remote')
    return (await t.call<{ items: Batch[] }>('GET', '/api/v1/batches')).items;
  return t.runtime.fleet.batches.list(t.runtime.instance.id);
}

/** A policy or batch named by id or by name, as people type them on a production line. */
async function findBatch(t: Target, ref: string): Promise<Batch> {
  const b = (await listBatches(t)).find((x) => x.id === ref || x.name === ref);
  if (!b) throw new ConfigError(`no batch with id or name "${ref}"`);
  return b;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Line numbers of each entry in a device list file, so problems point at the file, not the array. */
function lineOfEntries(text: string, count: number): number[] {
  const lines: number[] = [];
  let line = 1;
  let inArray = false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length && lines.length < count; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      if (inArray && depth === 1) lines.push(line);
      inString = true;
    } else if (c === '[') {
      depth++;
      inArray = true;
    } else if (c === ']') depth--;
    else if (inArray && depth === 1 && /[-0-9tfn{]/.test(c ?? '')) {
      lines.push(line);
      while (i + 1 < text.length && !/[,\]\s]/.test(text[i + 1]!)) i++;
    }
  }
  return lines;
}

/** `trustlink policy`, `trustlink batch` and `trustlink enrolment-token`, locally or against a server. */
export function registerFleetCommands(program: Command, run: Run): void {
  const policy = program.command('policy').description('security policies of devices');
  withConnection(policy.command('list').description('list policies')).action(
    (o: ConnectionOptions) =>
      run(() =>
        withTarget(o, async (t) => {
          const items = await listPolicies(t);
          if (o.json) return void process.stdout.write(JSON.stringify(items, null, 2) + '\n');
          printTable([
            ['NAME', 'CONNECTION', 'DEVICE LIFETIME', 'KEY TYPES', 'ISSUING', 'ID'],
            ...items.map((p) => [
              p.name,
              p.connectionType,
              `${p.deviceCertificate.lifetime.value} ${p.deviceCertificate.lifetime.unit}`,
              p.deviceCertificate.keyTypes.join(','),
              `${p.issuingCertificate.keyType}, ${p.issuingCertificate.lifetime.value} ${p.issuingCertificate.lifetime.unit}`,
              p.id,
            ]),
          ]);
        }),
      ),
  );
  withConnection(
    policy
      .command('create')
      .description('create a policy from a JSON file (fields as in docs/fleet.md)')
      .requiredOption('--file <policy.json>', 'the policy'),
  ).action((o: ConnectionOptions & { file: string }) =>
    run(() =>
      withTarget(o, async (t) => {
        const parsed = policyInputSchema.safeParse(readJson(o.file));
        if (!parsed.success) {
          const i = parsed.error.issues[0]!;
          throw new ConfigError(`${o.file}: ${i.path.join('.') || '(root)'}: ${i.message}`);
        }
        const p =
          t.mode === 'remote'
            ? await t.call<Policy>('POST', '/api/v1/policies', parsed.data)
            : await t.runtime.fleet.policies.create(t.runtime.instance.id, parsed.data, t.ctx);
        process.stdout.write(o.json ? JSON.stringify(p, null, 2) + '\n' : `${p.id}\n`);
      }),
    ),
  );

  const batch = program.command('batch').description('batches of devices and their device IDs');
  withConnection(batch.command('list').description('list batches with their device counts')).action(
    (o: ConnectionOptions) =>
      run(() =>
        withTarget(o, async (t) => {
          const items = await listBatches(t);
          if (o.json) return void process.stdout.write(JSON.stringify(items, null, 2) + '\n');
          printTable([
            ['NAME', 'DEVICES', 'ENROLLED', 'EXPIRED', 'REVOKED', 'POLICY', 'ID'],
            ...items.map((b) => [
              b.name,
              String(b.counts.devices),
              String(b.counts.enrolled),
              String(b.counts.expired),
              String(b.counts.revoked),
              b.policyName,
              b.id,
            ]),
          ]);
        }),
      ),
  );
  withConnection(
    batch
      .command('create')
      .description('create a batch')
      .requiredOption('--name <name>', 'unique batch name')
      .requiredOption('--policy <id-or-name>', 'the policy its devices follow'),
  ).action((o: ConnectionOptions & { name: string; policy: string }) =>
    run(() =>
      withTarget(o, async (t) => {
        const p = (await listPolicies(t)).find((x) => x.id === o.policy || x.name === o.policy);
        if (!p) throw new ConfigError(`no policy with id or name "${o.policy}"`);
        const input = {
          name: o.name,
          policyId: p.id,
          attributeFilter: { operator: 'and' as const, filters: [] },
        };
        const b =
          t.mode === 'remote'
            ? await t.call<Batch>('POST', '/api/v1/batches', input)
            : await t.runtime.fleet.batches.create(t.runtime.instance.id, input, t.ctx);
        process.stdout.write(o.json ? JSON.stringify(b, null, 2) + '\n' : `${b.id}\n`);
      }),
    ),
  );
  withConnection(
    batch
      .command('add-device')
      .description('register one device ID into a batch')
      .argument('<batch>', 'batch id or name')
      .argument('<device-id>', '64 hex digits'),
  ).action((batchRef: string, deviceId: string, o: ConnectionOptions) =>
    run(() =>
      withTarget(o, async (t) => {
        const b = await findBatch(t, batchRef);
        const r =
          t.mode === 'remote'
            ? await t.call<UploadResult>('POST', `/api/v1/batches/${b.id}/devices`, { deviceId })
            : await t.runtime.fleet.batches.register(
                t.runtime.instance.id,
                b.id,
                [deviceId],
                t.ctx,
              );
        process.stdout.write(
          r.added
            ? `added ${deviceId.toLowerCase()} to ${b.name}\n`
            : `${deviceId.toLowerCase()} was already in ${b.name}\n`,
        );
      }),
    ),
  );
  withConnection(
    batch
      .command('upload')
      .description(
        'register the device IDs of a file {"devices":["<64 hex>", ...]} into a batch, all or nothing',
      )
      .argument('<batch>', 'batch id or name')
      .argument('<file>', 'the device list'),
  ).action((batchRef: string, file: string, o: ConnectionOptions) =>
    run(() =>
      withTarget(o, async (t) => {
        const text = readFileSync(file, 'utf8');
        const data = readJson(file) as { devices?: unknown };
        if (!data || typeof data !== 'object' || !Array.isArray(data.devices)) {
          throw new ConfigError(`${file}: expected {"devices":["<64 hex>", ...]}`);
        }
        const entries = data.devices;
        log(`${file}: ${entries.length} entries`);
        // Check here first, so problems name the lines of the file before anything is sent.
        const { problems } = checkDeviceList(entries);
        if (problems.length) {
          const lines = lineOfEntries(text, entries.length);
          for (const p of problems.slice(0, 50))
            log(`${file}:${lines[p.entry - 1] ?? '?'}: entry ${p.entry} "${p.value}": ${p.reason}`);
          if (problems.length > 50) log(`... and ${problems.length - 50} more`);
          throw new ConfigError(
            `${problems.length} of ${entries.length} entries are not device IDs; nothing was sent`,
          );
        }
        const b = await findBatch(t, batchRef);
        log(`sending ${entries.length} device IDs to batch "${b.name}" ...`);
        const started = Date.now();
        const r =
          t.mode === 'remote'
            ? await t.call<UploadResult>('POST', `/api/v1/batches/${b.id}/devices/upload`, {
                devices: entries,
              })
            : await t.runtime.fleet.batches.register(t.runtime.instance.id, b.id, entries, t.ctx);
        log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        process.stdout.write(
          o.json
            ? JSON.stringify(r) + '\n'
            : `added ${r.added}, already in batch ${r.alreadyInBatch}\n`,
        );
      }),
    ),
  );

  const token = program
    .command('enrolment-token')
    .description('enrolment tokens: a second factor for factory-certificate enrolment');
  withConnection(
    token
      .command('create')
      .description('create a token for a batch; prints its value alone on standard output, once')
      .requiredOption('--name <name>', 'unique token name')
      .requiredOption('--batch <id-or-name>', 'the batch')
      .option('--not-before <time>', 'ISO 8601 start (default: now)')
      .option('--days <days>', 'validity in days', '365'),
  ).action(
    (o: ConnectionOptions & { name: string; batch: string; notBefore?: string; days: string }) =>
      run(() =>
        withTarget(o, async (t) => {
          const days = Number(o.days);
          if (!Number.isInteger(days) || days < 1)
            throw new ConfigError('--days: a whole number of days, at least 1');
          const nb = o.notBefore ? new Date(o.notBefore) : new Date();
          if (Number.isNaN(nb.getTime()))
            throw new ConfigError('--not-before: an ISO 8601 time, e.g. 2027-01-01T00:00:00Z');
          const b = await findBatch(t, o.batch);
          const input = {
            name: o.name,
            batchId: b.id,
            notBefore: nb.toISOString(),
            notAfter: new Date(nb.getTime() + days * 86_400_000).toISOString(),
          };
          const r =
            t.mode === 'remote'
              ? await t.call<{ value: string }>('POST', '/api/v1/enrolment-tokens', input)
              : await t.runtime.fleet.enrolmentTokens.create(t.runtime.instance.id, input, t.ctx);
          process.stdout.write(`${r.value}\n`);
        }),
      ),
  );
  withConnection(token.command('list').description('list tokens (never their values)')).action(
    (o: ConnectionOptions) =>
      run(() =>
        withTarget(o, async (t) => {
          type View = {
            id: string;
            name: string;
            batchId: string;
            notBefore: string;
            notAfter: string;
          };
          const items: View[] =
            t.mode === 'remote'
              ? (await t.call<{ items: View[] }>('GET', '/api/v1/enrolment-tokens')).items
              : await t.runtime.fleet.enrolmentTokens.list(t.runtime.instance.id);
          if (o.json) return void process.stdout.write(JSON.stringify(items, null, 2) + '\n');
          printTable([
            ['NAME', 'BATCH', 'NOT BEFORE', 'NOT AFTER', 'ID'],
            ...items.map((x) => [x.name, x.batchId, x.notBefore, x.notAfter, x.id]),
          ]);
        }),
      ),
  );
}
