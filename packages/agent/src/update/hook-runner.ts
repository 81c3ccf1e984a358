import { spawn } from 'node:child_process';

export type HookResult = { ok: true } | { ok: false; reason: string };

/**
 * Runs a hook (program and arguments, never a shell) with the update's environment. Exit 0 is
 * success; any other exit, a signal or the timeout is a failure whose reason carries the end of
 * the hook's standard error, so the operator sees why in the rollout.
 */
export function runHook(
  name: string,
  argv: string[],
  env: Record<string, string>,
  timeoutSeconds: number,
): Promise<HookResult> {
  return new Promise((resolve) => {
    let stderr = '';
    let timedOut = false;
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-2048);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: `${name} hook could not start: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ ok: true });
      const why = timedOut
        ? `timed out after ${timeoutSeconds} s`
        : signal
          ? `killed by ${signal}`
          : `exit ${code}`;
      const tail = stderr.trim();
      resolve({ ok: false, reason: `${name} hook failed (${why})${tail ? `: ${tail}` : ''}` });
    });
  });
}
