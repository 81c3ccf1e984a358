#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { PROTOCOL_VERSION } from '@trustlink/protocol';
import { configFileFrom, loadAgentConfig } from './config/agent-config.js';
import { writeAgentConfigDocs } from './config/agent-config-docs.js';
import { EXIT, exitCodeOf } from './commands/exit-codes.js';
import { manufacture } from './commands/manufacture.js';
import { createCsr, toPem } from './identity/csr-builder.js';
import { identitySigner } from './identity/identity-signer.js';
import { deviceIdOf } from './identity/device-id.js';
import { NoIdentityKeyError } from './keystore/key-store-errors.js';
import { openKeyStore } from './keystore/open-key-store.js';
import { otaUpdateHandler } from './run/ota-update-handler.js';
import { runCommand } from './run/run-command.js';
import { createRunLog } from './run/run-log.js';
import { readAgentState } from './state/agent-state.js';
import { readIdentityState } from './state/identity-state.js';
import { formatStatusReport, statusReportOf } from './state/status-report.js';
import { registerDevice } from './manufacturing/register-device.js';
import {
  CREDENTIAL_ENV,
  PLATFORM_URL_ENV,
  registrationTarget,
  type RegistrationOptions,
} from './manufacturing/registration-options.js';

// Standard output carries only the result (a device ID, a PEM) so scripts can capture it;
// notes, warnings and errors go to standard error.
const note = (message: string) => process.stderr.write(`trustlink-agent: ${message}\n`);

function openFrom(opts: { config?: string }) {
  const config = loadAgentConfig(configFileFrom(opts.config, process.env));
  return { config, store: openKeyStore(config, { env: process.env, warn: note }) };
}

/** Runs a command body, turning its errors into one line and a documented exit code. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const code = exitCodeOf(err);
      note(code === EXIT.failure ? ((err as Error)?.stack ?? String(err)) : (err as Error).message);
      process.exitCode = code;
    }
  };
}

const configOption = [
  '-c, --config <file>',
  'configuration file (default: $TRUSTLINK_AGENT_CONFIG, then /etc/trustlink/agent.json)',
] as const;

const program = new Command('trustlink-agent')
  .description(`Trustlink device agent (device protocol v${PROTOCOL_VERSION})`)
  .showHelpAfterError()
  .exitOverride();

program
  .command('manufacture')
  .description(
    'create the identity key if there is none (never replacing one), register its device ID into a batch when given a manufacturing credential, and print the device ID',
  )
  .option(...configOption)
  .option(
    '--platform-url <url>',
    `management URL of the platform to register with, e.g. https://platform.example.com:8443 (or ${PLATFORM_URL_ENV})`,
  )
  .option(
    '--credential-file <file>',
    `file holding the manufacturing credential (or the variable ${CREDENTIAL_ENV}); never put it in the configuration`,
  )
  .option('--root-ca <file>', 'PEM root to trust the platform through (default: rootCaFile)')
  .action(
    action(async (opts: { config?: string } & RegistrationOptions) => {
      const { config, store } = openFrom(opts);
      // Checked before the key is touched: a wrong option must not leave a half-made device.
      const target = registrationTarget(opts, config, process.env);
      const result = await manufacture(config, store);
      for (const n of result.notes) note(n);
      if (target) {
        const key = await store.publicKey();
        if (!key) throw new NoIdentityKeyError();
        const r = await registerDevice(target, {
          spkiDer: key.spkiDer,
          signer: await identitySigner(store),
        });
        if (r.deviceId !== result.deviceId)
          throw new Error(
            `the platform registered ${r.deviceId}, not this device's ${result.deviceId}`,
          );
        note(
          r.added
            ? `registered in batch "${r.batchName}"`
            : `already registered in batch "${r.batchName}"; nothing changed`,
        );
      }
      process.stdout.write(`${result.deviceId}\n`);
    }),
  );

program
  .command('id')
  .description('print the device ID (exit 4 when there is no identity key yet)')
  .option(...configOption)
  .action(
    action(async (opts: { config?: string }) => {
      const { store } = openFrom(opts);
      const key = await store.publicKey();
      if (!key) throw new NoIdentityKeyError();
      process.stdout.write(`${deviceIdOf(key.spkiDer)}\n`);
    }),
  );

program
  .command('csr')
  .description('print a PEM PKCS#10 request signed by the identity key (for EST clients and tests)')
  .option(...configOption)
  .option('--cn <name>', 'subject common name (default: the device ID)')
  .action(
    action(async (opts: { config?: string; cn?: string }) => {
      const { store } = openFrom(opts);
      const key = await store.publicKey();
      if (!key) throw new NoIdentityKeyError();
      const csr = await createCsr(store, opts.cn ?? deviceIdOf(key.spkiDer));
      process.stdout.write(toPem(csr));
    }),
  );

program
  .command('run')
  .description(
    'operating mode: enrol, keep the certificate current, check in, install updates, serve the local API (a daemon; see docs/agent.md)',
  )
  .option(...configOption)
  .option('--once', 'one cycle (enrol or renew when due, check in), then exit with its result')
  .action(
    action(async (opts: { config?: string; once?: boolean }) => {
      const { config, store } = openFrom(opts);
      process.exitCode = await runCommand(config, store, {
        once: opts.once ?? false,
        log: createRunLog(),
        updateHandler: otaUpdateHandler(),
      });
    }),
  );

program
  .command('status')
  .description('device ID, state, certificate expiry, last check-in and update state')
  .option(...configOption)
  .option('--json', 'one JSON object instead of lines for people')
  .action(
    action(async (opts: { config?: string; json?: boolean }) => {
      const config = loadAgentConfig(configFileFrom(opts.config, process.env));
      // Read from the state directory only: status works while the daemon runs, or without it.
      const state = readAgentState(config.stateDir);
      const report = statusReportOf(
        config,
        state,
        state?.deviceId ?? readIdentityState(config.stateDir)?.deviceId ?? null,
      );
      process.stdout.write(
        opts.json ? JSON.stringify(report, null, 2) + '\n' : formatStatusReport(report),
      );
    }),
  );

program
  .command('config-docs')
  .description('rewrite the option table of a documentation file from the configuration schema')
  .requiredOption(
    '--write <file>',
    'Markdown file with the generated-table markers (docs/agent.md)',
  )
  .action(
    action(async (opts: { write: string }) => {
      writeAgentConfigDocs(opts.write);
    }),
  );

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version end with code 0; every other parse problem is a usage error.
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    note((err as Error)?.stack ?? String(err));
    process.exitCode = EXIT.failure;
  }
}
