import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/agent-config.js';
import type { AgentConfig } from '../config/agent-config-schema.js';
import type { RegistrationTarget } from './register-device.js';

/** Variables a line station sets instead of options (a credential never goes on the command line). */
export const CREDENTIAL_ENV = 'TRUSTLINK_MANUFACTURING_CREDENTIAL';
export const PLATFORM_URL_ENV = 'TRUSTLINK_MANUFACTURING_URL';

export interface RegistrationOptions {
  platformUrl?: string;
  credentialFile?: string;
  rootCa?: string;
}

function readText(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${option}: cannot read ${file}: ${(err as Error).message}`);
  }
}

/**
 * Where and with what `manufacture` registers the device, or undefined when no credential was
 * given (then manufacture only creates the key). The credential comes from a file or the
 * environment of the station, so it is never written to the device's configuration or shown
 * in the process list.
 */
export function registrationTarget(
  opts: RegistrationOptions,
  config: Readonly<AgentConfig>,
  env: NodeJS.ProcessEnv,
): RegistrationTarget | undefined {
  const fromFile =
    opts.credentialFile !== undefined
      ? readText(opts.credentialFile, '--credential-file').split(/\r?\n/)[0]?.trim()
      : undefined;
  const credential = fromFile ?? env[CREDENTIAL_ENV]?.trim();
  const url = opts.platformUrl ?? env[PLATFORM_URL_ENV];
  if (!credential) {
    if (opts.platformUrl !== undefined || opts.rootCa !== undefined)
      throw new ConfigError(
        `--platform-url and --root-ca need a manufacturing credential (--credential-file or ${CREDENTIAL_ENV})`,
      );
    return undefined;
  }
  if (!/^tlm_[A-Za-z0-9_-]{43}$/.test(credential))
    throw new ConfigError(
      `the manufacturing credential (${opts.credentialFile ?? CREDENTIAL_ENV}) is not one: expected tlm_ and 43 characters`,
    );
  if (!url)
    throw new ConfigError(
      `registering needs the platform's management URL: --platform-url or ${PLATFORM_URL_ENV}`,
    );
  let platformUrl: URL;
  try {
    platformUrl = new URL(url);
  } catch {
    throw new ConfigError(`--platform-url: ${url} is not a URL`);
  }
  if (platformUrl.protocol !== 'https:')
    throw new ConfigError(`--platform-url: ${url} must be an https:// URL`);
  const rootFile = opts.rootCa ?? config.rootCaFile;
  const rootPem = readText(rootFile, opts.rootCa ? '--root-ca' : 'rootCaFile');
  if (!rootPem.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError(
      `${opts.rootCa ? '--root-ca' : 'rootCaFile'}: ${rootFile} holds no PEM certificate`,
    );
  return { platformUrl, rootPem, rootCaFile: rootFile, credential };
}
