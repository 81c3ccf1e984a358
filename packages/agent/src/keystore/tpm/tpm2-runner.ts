import { execFile } from 'node:child_process';
import { KeyStoreUnavailableError } from '../key-store-errors.js';

/** Runs one tpm2-tools program against the configured TPM and returns its standard output. */
export interface Tpm2Runner {
  readonly tcti: string;
  run(tool: string, args: string[]): Promise<string>;
}

/** A tpm2-tools program failed; `rc` is the TPM or TSS response code when it printed one. */
export class Tpm2ToolError extends Error {
  override name = 'Tpm2ToolError';
  constructor(
    readonly tool: string,
    readonly detail: string,
    readonly rc: number | undefined,
  ) {
    super(`${tool} failed: ${detail}`);
  }
}

const UNREACHABLE =
  /Could not load tcti|Failed to instantiate TCTI|Cannot connect|Connection refused|Failed to open specified TCTI device/i;

/**
 * TPM_RC_AUTH_FAIL or TPM_RC_BAD_AUTH: format-one codes (bit 7 set) whose low six bits are 0x0e
 * or 0x22, whatever session or parameter number the upper bits carry.
 */
function isAuthFailure(rc: number): boolean {
  const tpm = rc & 0xfff;
  return (tpm & 0x80) !== 0 && [0x0e, 0x22].includes(tpm & 0x3f);
}

/** The last ERROR line of tpm2-tools output, which names the cause most precisely. */
function lastError(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => l.startsWith('ERROR:'));
  const pick =
    errors.find((l) => /\(0x[0-9a-f]+\)\s*-/i.test(l)) ?? errors[0] ?? lines.at(-1) ?? 'no output';
  return pick.replace(/^ERROR:\s*/, '');
}

/**
 * Runs tpm2-tools with TPM2TOOLS_TCTI set; arguments go straight to the program (no shell).
 * Unreachable TPMs and missing tools become KeyStoreUnavailableError; other failures are
 * Tpm2ToolError carrying the response code, so callers can tell "no such handle" apart.
 */
export function createTpm2Runner(tcti: string, opts: { timeoutMs?: number } = {}): Tpm2Runner {
  return {
    tcti,
    run(tool, args) {
      return new Promise((resolve, reject) => {
        execFile(
          tool,
          args,
          {
            env: { ...process.env, TPM2TOOLS_TCTI: tcti },
            timeout: opts.timeoutMs ?? 120_000,
            maxBuffer: 4 * 1024 * 1024,
          },
          (err, stdout, stderr) => {
            if (!err) return resolve(stdout);
            const e = err as NodeJS.ErrnoException & { killed?: boolean };
            if (e.code === 'ENOENT') {
              return reject(new KeyStoreUnavailableError(`${tool} not found: install tpm2-tools`));
            }
            if (UNREACHABLE.test(stderr)) {
              return reject(
                new KeyStoreUnavailableError(`TPM not reachable through TCTI "${tcti}"`),
              );
            }
            if (e.killed) {
              return reject(
                new KeyStoreUnavailableError(`${tool} did not answer in time (TCTI "${tcti}")`),
              );
            }
            const detail = lastError(stderr);
            const m = /\((0x[0-9a-f]+)\)/i.exec(stderr);
            const rc = m ? Number.parseInt(m[1]!, 16) : undefined;
            if (rc !== undefined && isAuthFailure(rc)) {
              return reject(
                new KeyStoreUnavailableError(
                  `the TPM refused the hierarchy password (${tool}: ${detail})`,
                ),
              );
            }
            reject(new Tpm2ToolError(tool, detail, rc));
          },
        );
      });
    },
  };
}
