import { createReadStream, readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import type { Command } from 'commander';
import pino from 'pino';
import type { AuditContext } from '../audit/audit-types.js';
import { ConfigError, loadConfig } from '../config.js';
import { openRuntime, type Runtime } from '../runtime.js';

/** Options every admin command takes: a local data directory, or a remote server and token. */
export interface ConnectionOptions {
  config?: string;
  server?: string;
  token?: string;
  ca?: string;
  json?: boolean;
}

/** Adds the connection options (and --json) to a sub-command. */
export function withConnection(cmd: Command): Command {
  return cmd
    .option(
      '-c, --config <file>',
      'local mode: JSON configuration file (see docs/configuration.md)',
    )
    .option(
      '--server <url>',
      'remote mode: management URL, e.g. https://host:8443 (or TRUSTLINK_SERVER)',
    )
    .option('--token <token>', 'remote mode: API token (or TRUSTLINK_TOKEN)')
    .option('--ca <file>', 'remote mode: PEM root to trust, e.g. the OEM root (or TRUSTLINK_CA)')
    .option('--json', 'print JSON');
}

/** A call to the management API of a remote server. */
export type RemoteCall = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/** A POST of a file to the management API, streamed from disk (firmware uploads). */
export type RemoteUpload = <T>(
  path: string,
  file: string,
  contentType: string,
  /** Called with each piece's length as it is read from disk (progress display). */
  onProgress?: (bytes: number) => void,
) => Promise<T>;

export type Target =
  | { mode: 'local'; runtime: Runtime; ctx: AuditContext }
  | { mode: 'remote'; call: RemoteCall; upload: RemoteUpload };

/** The audit actor of local commands: the operator's OS account, through the CLI. */
function localContext(): AuditContext {
  let who = 'unknown';
  try {
    who = os.userInfo().username;
  } catch {
    /* no passwd entry (containers); keep 'unknown' */
  }
  return { actor: { type: 'system', id: null, name: `cli:${who}` }, sourceAddress: null };
}

/** Sends one request with a JSON body or a file streamed from disk; parses the JSON answer. */
function remoteSender(server: string, token: string, caFile?: string) {
  const ca = caFile ? readFileSync(caFile, 'utf8') : undefined;
  const base = new URL(server);
  if (base.protocol !== 'https:')
    throw new ConfigError(`--server: ${server} must be an https:// URL`);
  return <T>(
    method: string,
    path: string,
    body?:
      | { json: unknown }
      | { file: string; contentType: string; onProgress?: (bytes: number) => void },
  ) =>
    new Promise<T>((resolve, reject) => {
      const url = new URL(path, base);
      const payload = body && 'json' in body ? JSON.stringify(body.json) : undefined;
      const file = body && 'file' in body ? body : undefined;
      const req = https.request(
        url,
        {
          method,
          ca,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(payload !== undefined && { 'content-type': 'application/json' }),
            ...(file && {
              'content-type': file.contentType,
              'content-length': String(statSync(file.file).size),
            }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            let data: unknown = undefined;
            try {
              data = text ? JSON.parse(text) : undefined;
            } catch {
              data = text;
            }
            if (status >= 400) {
              const detail = (data as { detail?: string } | undefined)?.detail ?? text;
              reject(new ConfigError(`${server}: ${status} ${detail}`));
            } else resolve(data as T);
          });
        },
      );
      req.on('error', (err) => reject(new ConfigError(`${server}: ${err.message}`)));
      if (file) {
        const stream = createReadStream(file.file);
        stream.on('error', (err) => req.destroy(err));
        if (file.onProgress) stream.on('data', (c) => file.onProgress!(c.length));
        stream.pipe(req);
        return;
      }
      if (payload !== undefined) req.write(payload);
      req.end();
    });
}

/**
 * Runs `fn` against the chosen target: remote when --server (or TRUSTLINK_SERVER) is set,
 * otherwise the local data directory and database named by the configuration, opened with the
 * configured master key. Local mode never creates an instance.
 */
export async function withTarget<T>(
  opts: ConnectionOptions,
  fn: (target: Target) => Promise<T>,
): Promise<T> {
  const server = opts.server ?? process.env.TRUSTLINK_SERVER;
  if (server) {
    const token = opts.token ?? process.env.TRUSTLINK_TOKEN;
    if (!token) throw new ConfigError('remote mode needs --token (or TRUSTLINK_TOKEN)');
    const send = remoteSender(server, token, opts.ca ?? process.env.TRUSTLINK_CA);
    return fn({
      mode: 'remote',
      call: (method, path, body) =>
        send(method, path, body === undefined ? undefined : { json: body }),
      upload: (path, file, contentType, onProgress) =>
        send('POST', path, { file, contentType, ...(onProgress && { onProgress }) }),
    });
  }
  const config = loadConfig(process.env, opts.config);
  const log = pino({ level: 'warn' }, pino.destination(2));
  const runtime = await openRuntime(config, log, { existingOnly: true });
  try {
    return await fn({ mode: 'local', runtime, ctx: localContext() });
  } finally {
    await runtime.close();
  }
}

/** Prints rows as aligned columns. */
export function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows) {
    process.stdout.write(
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd() + '\n',
    );
  }
}
