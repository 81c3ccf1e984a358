import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestServer } from './test-server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '../cli.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `trustlink <args>` from source (through tsx, so no build is needed) in a child process,
 * with `env` added to a clean environment.
 */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  stdin?: string,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
    else child.stdin?.end();
  });
}

/** The environment that points local-mode commands at a test server's data. */
export function localEnv(server: TestServer): Record<string, string> {
  return {
    TRUSTLINK_DATA_DIR: server.config.dataDir,
    TRUSTLINK_MASTER_KEY_FILE: server.config.masterKeyFile,
    TRUSTLINK_DATABASE_URL: server.config.databaseUrl ?? '',
    TRUSTLINK_LOG_LEVEL: 'silent',
  };
}
