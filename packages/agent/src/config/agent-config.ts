import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { agentConfigSchema, type AgentConfig } from './agent-config-schema.js';

/** Where the agent looks for its configuration unless told otherwise. */
export const DEFAULT_CONFIG_FILE = '/etc/trustlink/agent.json';
/** Variable naming the configuration file (the `--config` option wins). */
export const CONFIG_FILE_ENV = 'TRUSTLINK_AGENT_CONFIG';

/** A configuration problem, phrased as one line naming the file and the option. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The configuration file in force: `--config`, then TRUSTLINK_AGENT_CONFIG, then the default. */
export function configFileFrom(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return option ?? (env[CONFIG_FILE_ENV] || DEFAULT_CONFIG_FILE);
}

/**
 * Reads and validates the configuration file. Relative paths in it are taken relative to the
 * file's own directory, so a config and its files can move together. The result is frozen.
 */
export function loadAgentConfig(file: string): Readonly<AgentConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`configuration: cannot read ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`configuration: ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseAgentConfig(data, file);
}

/** Validates configuration data that came from `file` (named in errors, anchors relative paths). */
export function parseAgentConfig(data: unknown, file: string): Readonly<AgentConfig> {
  const parsed = agentConfigSchema.safeParse(data);
  if (!parsed.success) {
    throw new ConfigError(`configuration: ${file}: ${describeIssue(parsed.error.issues[0], data)}`);
  }
  if (parsed.data.retryMaxSeconds < parsed.data.retryInitialSeconds) {
    throw new ConfigError(
      `configuration: ${file}: retryMaxSeconds: must not be below retryInitialSeconds (${parsed.data.retryInitialSeconds})`,
    );
  }
  return deepFreeze(resolvePaths(parsed.data, path.dirname(path.resolve(file))));
}

/** The value at a path of the raw data, to tell a missing option from a wrong one. */
function valueAt(data: unknown, at: PropertyKey[]): unknown {
  let v = data;
  for (const k of at)
    v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function describeIssue(issue: z.core.$ZodIssue | undefined, data: unknown): string {
  if (!issue) return 'invalid configuration';
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `unknown option ${at ? `${at}.` : ''}${k}`).join(', ');
  }
  if (issue.code === 'invalid_key') {
    return `${at}: is not a valid name: ${issue.issues[0]?.message ?? issue.message}`;
  }
  if (at && valueAt(data, issue.path) === undefined) return `${at}: is required`;
  if (!at) return `must be a JSON object (${issue.message})`;
  return `${at}: ${issue.message}`;
}

function resolvePaths(config: AgentConfig, base: string): AgentConfig {
  const abs = (p: string) => path.resolve(base, p);
  const opt = (p: string | undefined) => (p === undefined ? undefined : abs(p));
  const stateDir = abs(config.stateDir);
  const ks = config.keyStore;
  let keyStore: AgentConfig['keyStore'];
  if (ks.type === 'tpm') {
    keyStore = {
      ...ks,
      ownerAuthFile: opt(ks.ownerAuthFile),
      endorsementAuthFile: opt(ks.endorsementAuthFile),
    };
  } else if (ks.type === 'pkcs11') {
    keyStore = { ...ks, module: abs(ks.module), pinFile: opt(ks.pinFile) };
  } else {
    keyStore = { ...ks, path: ks.path ? abs(ks.path) : path.join(stateDir, 'identity-key.pem') };
  }
  const runDir = abs(config.runDir);
  const credentialsDir = config.credentialsDir
    ? abs(config.credentialsDir)
    : path.join(runDir, 'credentials');
  return {
    ...config,
    rootCaFile: abs(config.rootCaFile),
    stateDir,
    runDir,
    credentialsDir,
    keyStore,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
