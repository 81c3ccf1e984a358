import type { Command } from 'commander';
import {
  printTable,
  withConnection,
  withTarget,
  type ConnectionOptions,
  type Target,
} from '../cli/cli-context.js';
import { ConfigError } from '../config.js';
import { REVOCATION_REASON_NAMES, type RevocationReason } from '../pki/crl-fns.js';
import type { DeviceDetail } from './device-service.js';

type Run = (fn: () => Promise<void>) => Promise<void>;

async function show(t: Target, id: string): Promise<DeviceDetail> {
  if (t.mode === 'remote')
    return t.call<DeviceDetail>('GET', `/api/v1/devices/${encodeURIComponent(id)}`);
  return t.runtime.enrolment.deviceService.get(t.runtime.instance.id, id);
}

function print(d: DeviceDetail): void {
  const rows: [string, string | null][] = [
    ['device', d.id],
    ['state', d.state],
    ['batch', `${d.batchName} (${d.batchId})`],
    ['policy', d.policyName],
    ['enrolled by', d.enrolMethod],
    ['key type', d.keyType],
    ['registered', d.registeredAt],
    ['enrolled', d.enrolledAt],
    ['renewed', d.renewedAt],
    ['expired', d.expiredAt],
    ['revoked', d.revokedAt && `${d.revokedAt} (${d.revocationReason})`],
    ['last seen', d.lastSeenAt],
    ['certificate', d.currentSerial && `serial ${d.currentSerial}, valid until ${d.certNotAfter}`],
    ['renew at', d.renewAt],
    ['firmware', d.firmwareDigest && `${d.firmwareDigest} (reported)`],
  ];
  printTable(rows.filter(([, v]) => v).map(([k, v]) => [`${k}:`, v!]));
  if (d.certificates.length) {
    process.stdout.write('\ncertificates:\n');
    printTable([
      ['SERIAL', 'STATUS', 'NOT AFTER', 'CURRENT'],
      ...d.certificates.map((c) => [
        c.serial,
        c.status === 'revoked' ? `revoked (${c.revocationReason})` : c.status,
        c.notAfter,
        c.current ? 'yes' : '',
      ]),
    ]);
  }
  if (d.hubSync.length) {
    process.stdout.write('\nhub sync:\n');
    printTable([
      ['TOPIC', 'STATUS', 'ATTEMPTS', 'ERROR'],
      ...d.hubSync.map((e) => [e.topic, e.status, String(e.attempts), e.lastError ?? '']),
    ]);
  }
}

/** `trustlink device show|revoke`, locally or against a server. */
export function registerDeviceCommands(program: Command, run: Run): void {
  const device = program.command('device').description('enrolled devices: details and revocation');
  withConnection(
    device
      .command('show')
      .description("a device's state, times, certificates and hub sync")
      .argument('<id>', 'device ID (64 hex digits)'),
  ).action((id: string, o: ConnectionOptions) =>
    run(() =>
      withTarget(o, async (t) => {
        const d = await show(t, id);
        if (o.json) process.stdout.write(JSON.stringify(d, null, 2) + '\n');
        else print(d);
      }),
    ),
  );
  withConnection(
    device
      .command('revoke')
      .description(
        'revoke a device for good: its certificates (CRL, OCSP), sessions and connections end, its hub is told',
      )
      .argument('<id>', 'device ID (64 hex digits)')
      .requiredOption(
        '--reason <reason>',
        `RFC 5280 reason: ${REVOCATION_REASON_NAMES.join(', ')}`,
      ),
  ).action((id: string, o: ConnectionOptions & { reason: string }) =>
    run(() =>
      withTarget(o, async (t) => {
        if (!(REVOCATION_REASON_NAMES as string[]).includes(o.reason)) {
          throw new ConfigError(
            `--reason: "${o.reason}" is not one of ${REVOCATION_REASON_NAMES.join(', ')}`,
          );
        }
        const reason = o.reason as RevocationReason;
        const d =
          t.mode === 'remote'
            ? await t.call<DeviceDetail>(
                'POST',
                `/api/v1/devices/${encodeURIComponent(id)}/revoke`,
                {
                  reason,
                },
              )
            : (await t.runtime.enrolment.deviceService.revoke(
                t.runtime.instance.id,
                id,
                reason,
                t.ctx,
              ),
              await show(t, id));
        if (o.json) return void process.stdout.write(JSON.stringify(d, null, 2) + '\n');
        process.stdout.write(
          `revoked ${d.id} (${reason}); ${d.certificates.filter((c) => c.status === 'revoked').length} certificates revoked\n`,
        );
      }),
    ),
  );
}
