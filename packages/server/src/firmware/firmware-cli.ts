import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { pipeline, Transform } from 'node:stream';
import type { Command } from 'commander';
import {
  printTable,
  withConnection,
  withTarget,
  type ConnectionOptions,
  type Target,
} from '../cli/cli-context.js';
import { ConfigError } from '../config.js';
import { parseAttributeParam } from './firmware-fns.js';
import { uploadProgress } from './upload-progress.js';
import {
  FIRMWARE_FORMATS,
  SOURCE_FORMATS,
  type Attribute,
  type Firmware,
  type FirmwareFormat,
  type Rollout,
  type SourceFormat,
  type UpdateView,
} from './firmware-types.js';

type Run = (fn: () => Promise<void>) => Promise<void>;
const log = (line: string) => void process.stderr.write(line + '\n');
const collect = (value: string, previous: string[]) => [...previous, value];

/** `--attr board=tl-gw-2` (or board:tl-gw-2); names hold neither '=' nor ':'. */
function attributes(list: string[]): Attribute[] {
  return list.map((text) => {
    const r = parseAttributeParam(text.replace(/^([^=:]*)=/, '$1:'));
    if (!r.ok) throw new ConfigError(`--attr ${text}: ${r.reason}`);
    return r.attribute;
  });
}

async function listFirmware(t: Target, attrs: Attribute[] = [], or = false): Promise<Firmware[]> {
  if (t.mode === 'local')
    return t.runtime.firmware.catalog.list(t.runtime.instance.id, {
      operator: or ? 'or' : 'and',
      filters: attrs,
    });
  const q = new URLSearchParams({ operator: or ? 'or' : 'and' });
  for (const a of attrs) q.append('attr', `${a.name}:${a.value}`);
  return (await t.call<{ items: Firmware[] }>('GET', `/api/v1/firmware?${q}`)).items;
}

/** A firmware, batch or key named by id or by name, as a pipeline script names them. */
async function resolve(
  t: Target,
  kind: 'batch' | 'key',
  ref: string,
): Promise<{ id: string; name: string }> {
  let items: { id: string; name: string }[];
  if (kind === 'batch') {
    items =
      t.mode === 'local'
        ? await t.runtime.fleet.batches.list(t.runtime.instance.id)
        : (await t.call<{ items: { id: string; name: string }[] }>('GET', '/api/v1/batches')).items;
  } else {
    items =
      t.mode === 'local'
        ? await t.runtime.pkiServices.signingKeys.list(t.runtime.instance.id)
        : (
            await t.call<{ keys: { id: string; name: string }[] }>(
              'GET',
              '/api/v1/pki/signing-keys',
            )
          ).keys;
  }
  // Imported keys are listed as nohsm:<name>; either spelling finds them.
  const found = items.find((x) => x.id === ref || x.name === ref || x.name === `nohsm:${ref}`);
  if (!found)
    throw new ConfigError(
      `no ${kind === 'key' ? 'signing key' : 'batch'} with id or name "${ref}"`,
    );
  return found;
}

const human = (n: number) =>
  n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${(n / 1024 ** 2).toFixed(1)} MiB`;

interface UploadOptions extends ConnectionOptions {
  name: string;
  version: string;
  securityVersion: string;
  format: string;
  input?: string;
  description?: string;
  attr: string[];
}

/** `trustlink firmware upload|list|assign|rollout`, locally or against a server (for CI). */
export function registerFirmwareCommands(program: Command, run: Run): void {
  const fw = program.command('firmware').description('firmware images, signing and rollouts');

  withConnection(
    fw
      .command('upload')
      .description('upload an image (binary, or Intel HEX for .hex files); prints its id')
      .argument('<file>', 'the image or Intel HEX file')
      .requiredOption('--name <name>', 'unique firmware name')
      .requiredOption('--version <version>', 'version shown to operators and in manifests')
      .option('--security-version <n>', 'anti-rollback counter (integer)', '0')
      .option('--format <format>', `image layout: ${FIRMWARE_FORMATS.join(', ')}`, 'raw')
      .option(
        '--input <input>',
        `${SOURCE_FORMATS.join(' or ')} (default: intel-hex for .hex/.ihex files)`,
      )
      .option('--description <text>', 'description')
      .option('--attr <name=value>', 'attribute, repeatable', collect, [] as string[]),
  ).action((file: string, o: UploadOptions) =>
    run(() =>
      withTarget(o, async (t) => {
        const securityVersion = Number(o.securityVersion);
        if (
          !Number.isInteger(securityVersion) ||
          securityVersion < 0 ||
          securityVersion > 0xffffffff
        )
          throw new ConfigError('--security-version: a whole number from 0 to 4294967295');
        if (!(FIRMWARE_FORMATS as readonly string[]).includes(o.format))
          throw new ConfigError(`--format: one of ${FIRMWARE_FORMATS.join(', ')}`);
        const input = o.input ?? (/\.(hex|ihex|ihx)$/i.test(file) ? 'intel-hex' : 'binary');
        if (!(SOURCE_FORMATS as readonly string[]).includes(input))
          throw new ConfigError(`--input: ${SOURCE_FORMATS.join(' or ')}`);
        let size: number;
        try {
          size = statSync(file).size;
        } catch (err) {
          throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
        }
        const meta = {
          name: o.name,
          description: o.description ?? '',
          version: o.version,
          securityVersion,
          format: o.format as FirmwareFormat,
          input: input as SourceFormat,
          attributes: attributes(o.attr),
        };
        log(`uploading ${path.basename(file)} (${human(size)}, ${input}) as "${o.name}" ...`);
        let created: Firmware;
        const progress = uploadProgress(size);
        if (t.mode === 'local') {
          // Counted on its way to the upload (a 'data' listener here would start the flow early).
          const stream = pipeline(
            createReadStream(file),
            new Transform({
              transform(chunk: Buffer, _enc, done) {
                progress.add(chunk.length);
                done(null, chunk);
              },
            }),
            () => undefined,
          );
          created = await t.runtime.firmware.catalog.upload(
            t.runtime.instance.id,
            meta,
            stream,
            t.ctx,
          );
        } else {
          const q = new URLSearchParams({
            name: meta.name,
            version: meta.version,
            securityVersion: String(securityVersion),
            format: meta.format,
            input: meta.input,
            description: meta.description,
          });
          for (const a of meta.attributes) q.append('attr', `${a.name}:${a.value}`);
          created = await t.upload<Firmware>(
            `/api/v1/firmware?${q}`,
            file,
            'application/octet-stream',
            (n) => progress.add(n),
          );
        }
        progress.done();
        log(`stored ${human(created.size)}, SHA-256 ${created.sha256}`);
        process.stdout.write(o.json ? JSON.stringify(created, null, 2) + '\n' : `${created.id}\n`);
      }),
    ),
  );

  withConnection(
    fw
      .command('list')
      .description('list firmware with the keys that signed each image')
      .option(
        '--attr <name=value>',
        'only firmware with this attribute, repeatable',
        collect,
        [] as string[],
      )
      .option('--or', 'any of the --attr pairs instead of all of them'),
  ).action((o: ConnectionOptions & { attr: string[]; or?: boolean }) =>
    run(() =>
      withTarget(o, async (t) => {
        const items = await listFirmware(t, attributes(o.attr), o.or);
        if (o.json) return void process.stdout.write(JSON.stringify(items, null, 2) + '\n');
        printTable([
          [
            'NAME',
            'VERSION',
            'SECURITY',
            'FORMAT',
            'SIZE',
            'SHA-256',
            'SIGNED BY',
            'BATCHES',
            'ID',
          ],
          ...items.map((f) => [
            f.name,
            f.version,
            String(f.securityVersion),
            f.format,
            human(f.size),
            f.sha256.slice(0, 16),
            [...new Set(f.signatures.map((s) => s.keyName ?? s.keyId))].join(',') || '-',
            f.batches.map((b) => b.name).join(',') || '-',
            f.id,
          ]),
        ]);
      }),
    ),
  );

  withConnection(
    fw
      .command('assign')
      .description(
        "assign firmware to a batch: signs it with the key and starts its devices' update",
      )
      .argument('<firmware>', 'firmware id or name')
      .requiredOption('--batch <id-or-name>', 'the batch')
      .requiredOption('--key <id-or-name>', 'the signing key'),
  ).action((ref: string, o: ConnectionOptions & { batch: string; key: string }) =>
    run(() =>
      withTarget(o, async (t) => {
        const f = (await listFirmware(t)).find((x) => x.id === ref || x.name === ref);
        if (!f) throw new ConfigError(`no firmware with id or name "${ref}"`);
        const batch = await resolve(t, 'batch', o.batch);
        const key = await resolve(t, 'key', o.key);
        const input = { firmwareId: f.id, signingKeyId: key.id };
        const u =
          t.mode === 'local'
            ? await t.runtime.firmware.rollouts.assign(
                t.runtime.instance.id,
                batch.id,
                input,
                t.ctx,
              )
            : await t.call<UpdateView>('PUT', `/api/v1/batches/${batch.id}/firmware`, input);
        log(
          `"${f.name}" ${f.version} signed with "${key.name}" and assigned to batch "${batch.name}"`,
        );
        process.stdout.write(o.json ? JSON.stringify(u, null, 2) + '\n' : `${u.id}\n`);
      }),
    ),
  );

  withConnection(
    fw
      .command('rollout')
      .alias('status')
      .description('progress of the update of a batch (also: firmware status <batch>)')
      .argument('<batch>', 'batch id or name'),
  ).action((ref: string, o: ConnectionOptions) =>
    run(() =>
      withTarget(o, async (t) => {
        const batch = await resolve(t, 'batch', ref);
        const r =
          t.mode === 'local'
            ? await t.runtime.firmware.rollouts.rollout(t.runtime.instance.id, batch.id, {
                offset: 0,
                limit: 1000,
              })
            : await t.call<Rollout>('GET', `/api/v1/batches/${batch.id}/rollout?limit=1000`);
        if (o.json) return void process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        if (!r.update) return void process.stdout.write(`batch "${batch.name}" has no update\n`);
        const c = r.counts;
        process.stdout.write(
          `${r.update.firmwareName} ${r.update.version}: ${c.installed}/${c.total} installed, ${c.pending} pending, ${c.downloading} downloading, ${c.installing} installing, ${c.failed} failed\n`,
        );
        printTable([
          ['DEVICE', 'STATUS', 'SINCE', 'REASON'],
          ...r.items.map((d) => [d.deviceId, d.status, d.updatedAt, d.reason ?? '']),
        ]);
      }),
    ),
  );
}
