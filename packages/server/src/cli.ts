#!/usr/bin/env node
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { registerAuditCommands } from './audit/audit-cli.js';
import { registerFleetCommands } from './batches/fleet-cli.js';
import { registerManufacturingCommands } from './manufacturing/manufacturing-cli.js';
import { registerProvisioningCommands } from './provisioning/provisioning-cli.js';
import { registerDeviceCommands } from './devices/device-cli.js';
import { registerTokenCommands } from './auth/token-cli.js';
import {
  ConfigError,
  effectiveDatabaseUrl,
  loadConfig,
  renderConfigDocs,
  type Config,
} from './config.js';
import { openDatabase } from './db/database.js';
import { registerFirmwareCommands } from './firmware/firmware-cli.js';
import { registerDatabaseDirectCommands } from './database-direct/database-direct-cli.js';
import { rotateMasterKey } from './secrets/master-key-rotation.js';
import { createLogger, startServer } from './serve.js';
import { registerUserCommands } from './users/users-cli.js';
import { registerSetupCommands } from './setup/setup-cli.js';

/** Prints one line for a configuration problem and exits non-zero; other errors keep their stack. */
function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`trustlink: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`trustlink: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
}

function configFrom(opts: { config?: string }): Config {
  return loadConfig(process.env, opts.config);
}

const program = new Command('trustlink')
  .description('Trustlink IoT device security platform')
  .showHelpAfterError();

program
  .command('serve')
  .description('start the platform: management API and console, device API, PKI')
  .option('-c, --config <file>', 'JSON configuration file (see docs/configuration.md)')
  .action(async (opts: { config?: string }) => {
    try {
      const config = configFrom(opts);
      const log = createLogger(config);
      const server = await startServer(config, log);
      const rootFile = path.join(config.dataDir, 'oem-root-ca.pem');
      writeFileSync(rootFile, server.rootPem);
      const fp = createHash('sha256').update(new X509Certificate(server.rootPem).raw).digest('hex');
      const lines = [
        '',
        'Trustlink is running.',
        `  Console and management API  ${server.consoleUrl}/`,
        `  API reference (OpenAPI)     ${server.consoleUrl}/api/docs`,
        `  Device API and EST          ${server.deviceUrl}/device/v1  ${server.deviceUrl}/.well-known/est`,
        `  MQTT broker (mqtt hubs)     mqtts://${config.publicHostname}:${server.mqttPort}`,
        `  Database                    ${server.runtime.db.description}`,
        `  OEM root CA                 ${path.resolve(rootFile)}`,
        `                              SHA-256 ${fp.replace(/(..)(?!$)/g, '$1:')}`,
        ...(server.setupUrl
          ? [
              '',
              `  One-time setup link (valid ${config.setupLinkTtlMinutes} min): ${server.setupUrl}`,
            ]
          : []),
        ...(server.earlierSetupLink
          ? [
              '',
              `  A setup link was issued at ${server.earlierSetupLink.createdAt} by another replica or an earlier start;`,
              `  it works until ${server.earlierSetupLink.expiresAt}. For a new one (voids it): trustlink setup link`,
            ]
          : []),
        '',
      ];
      process.stderr.write(lines.join('\n') + '\n');
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'stopping');
        server.stop().then(
          () => process.exit(0),
          (err) => fail(err),
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    } catch (err) {
      fail(err);
    }
  });

const configCmd = program.command('config').description('configuration helpers');
configCmd
  .command('docs')
  .description('print docs/configuration.md, generated from the configuration schema')
  .option('--write <file>', 'write it to this file')
  .option('--check <file>', 'exit 1 if this file differs from what would be generated')
  .action((opts: { write?: string; check?: string }) => {
    const text = renderConfigDocs();
    if (opts.write) writeFileSync(opts.write, text);
    else if (opts.check) {
      let current = '';
      try {
        current = readFileSync(opts.check, 'utf8');
      } catch {
        /* missing counts as different */
      }
      if (current !== text) {
        process.stderr.write(`trustlink: ${opts.check} is out of date; run npm run docs:config\n`);
        process.exit(1);
      }
    } else process.stdout.write(text);
  });
configCmd
  .command('check')
  .description('validate the configuration and print it (secrets hidden)')
  .option('-c, --config <file>', 'JSON configuration file')
  .action((opts: { config?: string }) => {
    try {
      const config = configFrom(opts);
      const shown = {
        ...config,
        masterKey: config.masterKey ? '[set]' : undefined,
        pkcs11Pin: config.pkcs11Pin ? '[set]' : undefined,
        effectiveDatabaseUrl: effectiveDatabaseUrl(config).replace(/:[^:@/]+@/, ':***@'),
      };
      process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
    } catch (err) {
      fail(err);
    }
  });

program
  .command('master-key')
  .description('master key maintenance')
  .command('rotate')
  .description('generate a new master key and re-seal every secret under it')
  .option('-c, --config <file>', 'JSON configuration file')
  .action(async (opts: { config?: string }) => {
    try {
      const config = configFrom(opts);
      const db = await openDatabase(effectiveDatabaseUrl(config), {
        preparedStatements: config.databasePreparedStatements === 'on',
      });
      try {
        const log = {
          info: (o: object, msg: string) =>
            void process.stderr.write(`${msg} ${JSON.stringify(o)}\n`),
        };
        const r = await rotateMasterKey(config, db, log);
        process.stdout.write(
          `master key rotated: ${r.oldKeyId} -> ${r.newKeyId}; ${r.rows} sealed values re-sealed\n`,
        );
      } finally {
        await db.close();
      }
    } catch (err) {
      fail(err);
    }
  });

/** Runs an admin command; any error becomes one line on stderr and a non-zero exit. */
const run = (fn: () => Promise<void>) => fn().catch(fail);
registerUserCommands(program, run);
registerTokenCommands(program, run);
registerAuditCommands(program, run);
registerFleetCommands(program, run);
registerDeviceCommands(program, run);
registerFirmwareCommands(program, run);
registerDatabaseDirectCommands(program, run);
registerManufacturingCommands(program, run);
registerProvisioningCommands(program, run);
registerSetupCommands(program, run);

await program.parseAsync(process.argv);
