import path from 'node:path';
import type { AgentConfig } from '../config/agent-config-schema.js';
import type { AgentState } from './agent-state.js';

/** What `trustlink-agent status` and the local API's /v1/status show. */
export interface StatusReport {
  deviceId: string | null;
  /** `not-manufactured`, `unenrolled`, `enrolled` or `revoked`. */
  state: string;
  /** What the platform said at the last check-in (`enrolled`, `renewed`, `expired`). */
  platformState: string | null;
  certificate: { serial: string; notAfter: string; renewAt: string } | null;
  lastCheckInAt: string | null;
  nextAttemptAt: string | null;
  failures: number;
  lastError: { at: string; message: string } | null;
  update: { id: string; state: string; at: string; detail?: string } | null;
  revokedAt: string | null;
  timeFloor: string | null;
  credentialsDir: string;
  socket: string;
}

/** The local API socket in the run directory. */
export function socketPathOf(config: Readonly<AgentConfig>): string {
  return path.join(config.runDir, 'agent.sock');
}

/** The report for a state (null: the agent has not run yet; `deviceId` from identity.json). */
export function statusReportOf(
  config: Readonly<AgentConfig>,
  state: AgentState | null,
  deviceId: string | null = state?.deviceId ?? null,
): StatusReport {
  const c = state?.certificate;
  return {
    deviceId,
    state: state?.phase ?? (deviceId ? 'unenrolled' : 'not-manufactured'),
    platformState: state?.platformState ?? null,
    certificate: c ? { serial: c.serial, notAfter: c.notAfter, renewAt: c.renewAt } : null,
    lastCheckInAt: state?.lastCheckInAt ?? null,
    nextAttemptAt: state?.nextAttemptAt ?? null,
    failures: state?.failures ?? 0,
    lastError: state?.lastError ?? null,
    update: state?.update
      ? {
          id: state.update.id,
          state: state.update.state,
          at: state.update.at,
          ...(state.update.detail ? { detail: state.update.detail } : {}),
        }
      : null,
    revokedAt: state?.revokedAt ?? null,
    timeFloor: state?.timeFloor ?? null,
    credentialsDir: config.credentialsDir!,
    socket: socketPathOf(config),
  };
}

/** The report as aligned `name: value` lines for people. */
export function formatStatusReport(r: StatusReport): string {
  const rows: [string, string][] = [
    ['device ID', r.deviceId ?? '(none: run trustlink-agent manufacture)'],
    ['state', r.state + (r.platformState ? ` (platform: ${r.platformState})` : '')],
    [
      'certificate',
      r.certificate
        ? `serial ${r.certificate.serial}, expires ${r.certificate.notAfter}, renews at ${r.certificate.renewAt}`
        : '(none)',
    ],
    ['last check-in', r.lastCheckInAt ?? '(never)'],
    ['next attempt', r.nextAttemptAt ?? '(none)'],
    [
      'update',
      r.update
        ? `${r.update.id}: ${r.update.state} at ${r.update.at}${r.update.detail ? ` (${r.update.detail})` : ''}`
        : '(none)',
    ],
  ];
  if (r.revokedAt) rows.push(['revoked at', r.revokedAt]);
  if (r.lastError)
    rows.push([
      'last error',
      `${r.lastError.at} ${r.lastError.message}${r.failures > 1 ? ` (${r.failures} failures in a row)` : ''}`,
    ]);
  rows.push(['credentials', r.credentialsDir], ['local API', r.socket]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n') + '\n';
}
